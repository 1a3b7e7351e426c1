// Agents' public keys, pinned the first time an overwatch hears of an agent (trust on first use):
// a claim signed by another key for the same agent id is refused from then on, unless an operator
// has allowed a re-key, which lets the next new key replace the pin once. Pins outlive restarts
// and the dropping of a quiet agent's registration; only an operator removes them.
import type { SqlDatabase } from "./driver.ts";

export interface PinnedAgent {
  agentId: string;
  /** The service it first registered for. */
  service: string;
  /** The raw 32-byte Ed25519 key. */
  publicKey: Uint8Array;
  /** When the agent was first pinned (ms since epoch); a re-key keeps it. */
  firstSeen: number;
  /** Its last accepted claim, as last written (writers may throttle this). */
  lastSeen: number;
  /** Until when (ms) the next new key may replace the pin; undefined when no re-key is allowed. */
  rekeyAllowedUntil?: number;
}

export interface Agents {
  /**
   * Pins publicKey for the agent: a new row (first_seen = last_seen = at), or, for a known agent,
   * the key replaced (a re-key: first_seen kept, last_seen = at, the re-key permission used up).
   */
  pin(agent: { agentId: string; service: string; publicKey: Uint8Array; at: number }): void;
  get(agentId: string): PinnedAgent | undefined;
  /** Moves last_seen forward to `at` (never back); false when the agent is not pinned. */
  touch(agentId: string, at: number): boolean;
  /** Lets the next new key replace the pin until `until` (ms); false when the agent is not pinned. */
  allowRekey(agentId: string, until: number): boolean;
  /** Every pinned agent, by agent id. */
  list(): PinnedAgent[];
  /** Forgets the pin: the next key seen for the agent is pinned anew. False when there was none. */
  remove(agentId: string): boolean;
}

interface Row {
  agent_id: string;
  service: string;
  public_key: Uint8Array;
  first_seen: number;
  last_seen: number;
  rekey_allowed_until: number | null;
}

export function createAgents(db: SqlDatabase): Agents {
  const upsert = db.prepare(
    `INSERT INTO agents (agent_id, service, public_key, first_seen, last_seen, rekey_allowed_until) VALUES (?, ?, ?, ?, ?, NULL)
     ON CONFLICT (agent_id) DO UPDATE SET public_key = excluded.public_key, last_seen = excluded.last_seen, rekey_allowed_until = NULL`,
  );
  const select = db.prepare<Row>("SELECT * FROM agents WHERE agent_id = ?");
  const selectAll = db.prepare<Row>("SELECT * FROM agents ORDER BY agent_id");
  const updateSeen = db.prepare("UPDATE agents SET last_seen = max(last_seen, ?) WHERE agent_id = ?");
  const updateRekey = db.prepare("UPDATE agents SET rekey_allowed_until = ? WHERE agent_id = ?");
  const remove = db.prepare("DELETE FROM agents WHERE agent_id = ?");
  return {
    pin(a) {
      upsert.run(a.agentId, a.service, a.publicKey, a.at, a.at);
    },
    get(agentId) {
      const row = select.get(agentId);
      return row && fromRow(row);
    },
    touch(agentId, at) {
      return updateSeen.run(at, agentId).changes > 0;
    },
    allowRekey(agentId, until) {
      return updateRekey.run(until, agentId).changes > 0;
    },
    list() {
      return selectAll.all().map(fromRow);
    },
    remove(agentId) {
      return remove.run(agentId).changes > 0;
    },
  };
}

function fromRow(r: Row): PinnedAgent {
  const agent: PinnedAgent = {
    agentId: r.agent_id,
    service: r.service,
    // better-sqlite3 hands back Buffers: plain bytes either way.
    publicKey: new Uint8Array(r.public_key),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
  if (r.rekey_allowed_until !== null) agent.rekeyAllowedUntil = r.rekey_allowed_until;
  return agent;
}
