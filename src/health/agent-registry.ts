// The overwatch's side of agent claims: which agents are registered, the backends they announce and
// whether what they say is still fresh. Pure and clock-driven: every call takes `now`, nothing here
// sets a timer. The node wiring
//
//   - calls receive(claim, now) for each claim decodeClaim (cluster/claims.ts) accepted: the
//     signature is already checked against the key inside the claim; here the claim is checked
//     against agent_tokens[service] and against the key pinned for the agent;
//   - reads backends(now) when it builds the health engine's view (DESIGN.md "Health decision",
//     rule 4: a fresh claim counts, a stale one is unknown, and after stale.remove_after the
//     registration is dropped);
//   - calls tick(now) at nextDue(now), so an agent that goes quiet turns stale and is dropped on
//     time even when nothing else happens;
//   - calls reconfigure(config, now) on a reload;
//   - listens with onEvent and reads counts() for metrics.
//
// Trust on first use: the first key seen (with a valid token) for an agent id is pinned in the store
// and outlives restarts; a claim signed by another key is refused, and reported once per key, until
// an operator allows a re-key (allowRekey), which lets the next new key replace the pin once.
//
// Sequence: each (agent, service) has the seq of its latest heartbeat; an older seq, or a part of
// the latest one already received, is a replay and ignored, and does not count as a heartbeat.
// A claim in several parts is taken part by part: a new heartbeat's part replaces the same part of
// the previous one, so the backends in parts still to come stay until their part arrives (or goes
// stale). Freshness is timed per part by this node's clock, not the agent's.
//
// This file imports nothing from cluster/ (which sits above health/): AgentClaim is the shape of
// cluster/claims.ts's Claim that the registry reads, and a Claim is one.

import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/types.ts";
import type { Agents } from "../store/agents.ts";
import { backendKey } from "./snapshot.ts";

export type AgentClaimStatus = "healthy" | "unhealthy" | "draining";

export interface AgentClaimBackend {
  address: string;
  port: number;
  weight: number;
  status: AgentClaimStatus;
  detail: string;
  bleeding?: boolean;
  region?: string;
}

/** A claim whose signature decodeClaim has verified (cluster/claims.ts's Claim). */
export interface AgentClaim {
  agentId: string;
  service: string;
  token: string;
  /** "" for none. */
  region: string;
  publicKey: Uint8Array;
  seq: number;
  /** The agent's clock (ms); shown, never used for timing. */
  time: number;
  part: number;
  parts: number;
  backends: readonly AgentClaimBackend[];
}

export type RejectReason = "unknown-service" | "bad-token" | "key-mismatch" | "store-unavailable";
export type IgnoreReason = "old-sequence" | "duplicate" | "inconsistent-parts";

export type ReceiveResult =
  | {
      outcome: "accepted";
      /** The agent was not registered before this claim. */
      registered: boolean;
      /** backends() reads differently than before (a backend came or went, or a status, weight, region, bleeding or freshness changed). */
      changed: boolean;
    }
  /** Not a new heartbeat: a replay or a copy. Not counted as one. */
  | { outcome: "ignored"; reason: IgnoreReason; detail: string }
  | { outcome: "rejected"; reason: RejectReason; detail: string };

/** A backend an agent announces, as the health engine reads it. */
export interface AgentBackend {
  /** backendKey(service, address, port). */
  key: string;
  service: string;
  address: string;
  port: number;
  weight: number;
  /** The backend's region, else its agent's; undefined when neither has one. */
  region?: string;
  agentId: string;
  /** What the agent last said. */
  status: AgentClaimStatus;
  detail: string;
  /** The agent's predictive signal: near its limits, may fail soon. */
  bleeding: boolean;
  /** Heard within stale.threshold. */
  fresh: boolean;
  /** What the health decision uses: the status while fresh, "unknown" once stale. */
  claim: AgentClaimStatus | "unknown";
  /** When this node last received the claim for it (its clock, ms). */
  lastSeen: number;
  /** When the agent made that claim (the agent's clock, ms). */
  sentAt: number;
}

export interface AgentSummary {
  agentId: string;
  region: string;
  /** base64 of the pinned public key, as in the agent's agent-identity.json. */
  publicKey: string;
  services: string[];
  /** When this registration began (it starts again after the agent was dropped, or this node restarted). */
  registeredAt: number;
  lastSeen: number;
  stale: boolean;
  backends: number;
}

export type AgentRegistryEvent =
  | { type: "agent-registered"; at: number; agentId: string; service: string; region: string; publicKey: string; pinned: "new" | "known" }
  | { type: "agent-rekeyed"; at: number; agentId: string; service: string; oldKey: string; newKey: string }
  | { type: "agent-key-rejected"; at: number; agentId: string; service: string; pinnedKey: string; offeredKey: string }
  | { type: "agent-stale"; at: number; agentId: string; lastSeen: number }
  | { type: "agent-recovered"; at: number; agentId: string; silentForMs: number }
  | { type: "agent-removed"; at: number; agentId: string; reason: string }
  | { type: "backend-added"; at: number; agentId: string; service: string; address: string; port: number }
  | { type: "backend-removed"; at: number; agentId: string; service: string; address: string; port: number; reason: string };

export interface AgentRegistryCounts {
  /** Agents registered now. */
  registered: number;
  /** Of those, without a heartbeat for stale.threshold. */
  stale: number;
  /** Backends backends() returns. */
  backends: number;
  /** Claims taken (each part counts). */
  accepted: number;
  rejected: Record<RejectReason, number>;
  ignored: Record<IgnoreReason, number>;
  /** Payloads the wiring could not decode (countUndecodable), by decodeClaim's reason. */
  undecodable: Record<string, number>;
}

export type AgentRegistryConfig = Pick<Config, "agent_tokens" | "stale">;

export interface AgentRegistryOptions {
  /** Where keys are pinned: store.agents. */
  pins: Agents;
  config: AgentRegistryConfig;
  /** The shortest time between two writes of an agent's last_seen to the store; default 60 s. */
  touchIntervalMs?: number;
}

interface PartState {
  seq: number;
  at: number;
  sentAt: number;
  backends: readonly AgentClaimBackend[];
}

interface ServiceState {
  /** SHA-256 of the token it registered with, so a reload that changes the token ends it. */
  tokenDigest: Buffer;
  seq: number;
  parts: number;
  seenParts: Set<number>;
  byPart: Map<number, PartState>;
}

interface AgentState {
  agentId: string;
  publicKey: Uint8Array;
  region: string;
  registeredAt: number;
  lastSeen: number;
  lastTouch: number;
  stale: boolean;
  services: Map<string, ServiceState>;
}

export class AgentRegistry {
  private readonly pins: Agents;
  private readonly touchIntervalMs: number;
  private readonly agentStates = new Map<string, AgentState>();
  private readonly listeners = new Set<(event: AgentRegistryEvent) => void>();
  /** Per agent, the last wrong key reported, so a reinstalled agent is reported once, not every heartbeat. */
  private readonly reportedKeys = new Map<string, string>();
  private tokens = new Map<string, Buffer>();
  private thresholdMs = 0;
  private removeAfterMs = 0;
  /** No agent or part changes state before this time: sweeping earlier finds nothing. */
  private dueAt = Number.NEGATIVE_INFINITY;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly tally = {
    accepted: 0,
    rejected: { "unknown-service": 0, "bad-token": 0, "key-mismatch": 0, "store-unavailable": 0 } as Record<RejectReason, number>,
    ignored: { "old-sequence": 0, duplicate: 0, "inconsistent-parts": 0 } as Record<IgnoreReason, number>,
    undecodable: {} as Record<string, number>,
  };

  constructor(options: AgentRegistryOptions) {
    this.pins = options.pins;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.applyConfig(options.config);
  }

  /** Subscribes to events; returns the unsubscribe. Listeners run after the state has changed. */
  onEvent(listener: (event: AgentRegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes one claim (one part) that decodeClaim returned: its signature is not checked again here.
   * Does not throw (a store failure is a rejection), unless an event listener does.
   */
  receive(claim: AgentClaim, now: number): ReceiveResult {
    const events: AgentRegistryEvent[] = [];
    const swept = this.sweepIfDue(now, events);
    const result = this.take(claim, now, events);
    if (result.outcome === "rejected") this.tally.rejected[result.reason]++;
    else if (result.outcome === "ignored") this.tally.ignored[result.reason]++;
    else this.tally.accepted++;
    this.emit(events);
    return result.outcome === "accepted" && swept ? { ...result, changed: true } : result;
  }

  /**
   * The backends agents announce, by service (services and backends sorted). A backend that two
   * agents announce is given once, from the one heard last. Applies due stale/removal transitions
   * first (their events are emitted).
   */
  backends(now: number): ReadonlyMap<string, readonly AgentBackend[]> {
    this.tick(now);
    const chosen = new Map<string, AgentBackend>();
    for (const agent of this.agentStates.values()) {
      for (const b of this.agentBackends(agent, now).values()) {
        const other = chosen.get(b.key);
        if (!other || preferred(b, other)) chosen.set(b.key, b);
      }
    }
    const byService = new Map<string, AgentBackend[]>();
    for (const b of [...chosen.values()].sort(compareBackends)) {
      let list = byService.get(b.service);
      if (!list) byService.set(b.service, (list = []));
      list.push(b);
    }
    return byService;
  }

  /** Registered agents, by agent id. */
  agents(now: number): AgentSummary[] {
    this.tick(now);
    return [...this.agentStates.values()]
      .sort((a, b) => compareText(a.agentId, b.agentId))
      .map((a) => ({
        agentId: a.agentId,
        region: a.region,
        publicKey: keyText(a.publicKey),
        services: [...a.services.keys()].sort(compareText),
        registeredAt: a.registeredAt,
        lastSeen: a.lastSeen,
        stale: a.stale,
        backends: this.agentBackends(a, now).size,
      }));
  }

  /**
   * Applies what is due at `now`: agents without a heartbeat for stale.threshold turn stale, and
   * registrations (or parts of them) without one for stale.remove_after are dropped, with events.
   * True when that changed what backends() reads (a claim's freshness, or which backends there are).
   */
  tick(now: number): boolean {
    const events: AgentRegistryEvent[] = [];
    const changed = this.sweepIfDue(now, events);
    this.emit(events);
    return changed;
  }

  /** The next time after `now` at which tick would change something; undefined with no agents. */
  nextDue(now: number): number | undefined {
    let next: number | undefined;
    const consider = (at: number) => {
      if (at > now && (next === undefined || at < next)) next = at;
    };
    for (const agent of this.agentStates.values()) {
      consider(agent.lastSeen + this.thresholdMs);
      consider(agent.lastSeen + this.removeAfterMs);
      for (const service of agent.services.values()) {
        for (const part of service.byPart.values()) {
          consider(part.at + this.thresholdMs);
          consider(part.at + this.removeAfterMs);
        }
      }
    }
    return next;
  }

  /**
   * A reload: new agent_tokens and stale timings. Registrations for a service whose token changed
   * or that left agent_tokens end at once (their agents must present the new token). True when
   * backends() changed.
   */
  reconfigure(config: AgentRegistryConfig, now: number): boolean {
    const timing = [this.thresholdMs, this.removeAfterMs];
    this.applyConfig(config);
    const events: AgentRegistryEvent[] = [];
    // New timings can turn claims stale at once: say changed rather than work out whether they did.
    let changed = this.agentStates.size > 0 && (timing[0] !== this.thresholdMs || timing[1] !== this.removeAfterMs);
    for (const agent of [...this.agentStates.values()]) {
      for (const [name, service] of [...agent.services]) {
        const current = this.tokens.get(name);
        if (current && timingSafeEqual(current, service.tokenDigest)) continue;
        const before = this.agentBackends(agent, now);
        agent.services.delete(name);
        const why = current ? `agent_tokens.${name} changed` : `${name} is no longer in agent_tokens`;
        changed = this.diff(agent, before, now, events, why) || changed;
      }
      if (agent.services.size === 0) {
        this.agentStates.delete(agent.agentId);
        events.push({ type: "agent-removed", at: now, agentId: agent.agentId, reason: "its service token is no longer valid" });
      }
    }
    this.dueAt = Number.NEGATIVE_INFINITY; // new timings: look again
    changed = this.sweepIfDue(now, events) || changed;
    this.emit(events);
    return changed;
  }

  /**
   * An operator's re-key: until `until` (ms), the next new key seen for the agent replaces its pin.
   * False when the agent has no pin (its next key is pinned anyway).
   */
  allowRekey(agentId: string, until: number): boolean {
    this.reportedKeys.delete(agentId);
    return this.pins.allowRekey(agentId, until);
  }

  /** Counts a payload the wiring could not decode, under decodeClaim's reason. */
  countUndecodable(reason: string): void {
    this.tally.undecodable[reason] = (this.tally.undecodable[reason] ?? 0) + 1;
  }

  counts(now: number): AgentRegistryCounts {
    let backends = 0;
    for (const list of this.backends(now).values()) backends += list.length;
    let stale = 0;
    for (const agent of this.agentStates.values()) if (agent.stale) stale++;
    return {
      registered: this.agentStates.size,
      stale,
      backends,
      accepted: this.tally.accepted,
      rejected: { ...this.tally.rejected },
      ignored: { ...this.tally.ignored },
      undecodable: { ...this.tally.undecodable },
    };
  }

  private take(claim: AgentClaim, now: number, events: AgentRegistryEvent[]): ReceiveResult {
    const reject = (reason: RejectReason, detail: string): ReceiveResult => ({ outcome: "rejected", reason, detail });
    const ignore = (reason: IgnoreReason, detail: string): ReceiveResult => ({ outcome: "ignored", reason, detail });

    // 1. The service token, compared in constant time (as digests, so the length does not show either).
    const expected = this.tokens.get(claim.service);
    if (!expected) return reject("unknown-service", `service ${claim.service} is not in agent_tokens`);
    const digest = sha256(claim.token);
    if (!timingSafeEqual(digest, expected)) return reject("bad-token", `the token does not match agent_tokens.${claim.service}`);

    // 2. The key: pinned on first use, refused when it differs, unless a re-key is allowed.
    let pinned: "new" | "known" = "known";
    let rekeyed = false;
    try {
      const pin = this.pins.get(claim.agentId);
      if (!pin) {
        this.pins.pin({ agentId: claim.agentId, service: claim.service, publicKey: claim.publicKey, at: now });
        pinned = "new";
      } else if (!sameBytes(pin.publicKey, claim.publicKey)) {
        if (pin.rekeyAllowedUntil === undefined || now > pin.rekeyAllowedUntil) {
          const offered = keyText(claim.publicKey);
          if (this.reportedKeys.get(claim.agentId) !== offered) {
            this.reportedKeys.set(claim.agentId, offered);
            events.push({ type: "agent-key-rejected", at: now, agentId: claim.agentId, service: claim.service, pinnedKey: keyText(pin.publicKey), offeredKey: offered });
          }
          return reject("key-mismatch", `agent ${claim.agentId} signed with a key other than the one pinned for it`);
        }
        this.pins.pin({ agentId: claim.agentId, service: claim.service, publicKey: claim.publicKey, at: now });
        this.reportedKeys.delete(claim.agentId);
        rekeyed = true;
        events.push({ type: "agent-rekeyed", at: now, agentId: claim.agentId, service: claim.service, oldKey: keyText(pin.publicKey), newKey: keyText(claim.publicKey) });
      }
    } catch (err) {
      return reject("store-unavailable", `cannot read or pin the agent's key: ${err instanceof Error ? err.message : String(err)}`);
    }

    // 3. The sequence, per (agent, service). A new key (re-key, or a pin an operator removed) starts afresh.
    let agent = this.agentStates.get(claim.agentId);
    if (agent && (rekeyed || !sameBytes(agent.publicKey, claim.publicKey))) {
      for (const service of agent.services.values()) {
        service.seq = -1;
        service.seenParts.clear();
      }
    }
    const known = agent?.services.get(claim.service);
    if (known) {
      if (claim.seq < known.seq) return ignore("old-sequence", `seq ${claim.seq} is older than ${known.seq}`);
      if (claim.seq === known.seq) {
        if (known.seenParts.has(claim.part)) return ignore("duplicate", `seq ${claim.seq} part ${claim.part} was already received`);
        if (claim.parts !== known.parts) return ignore("inconsistent-parts", `seq ${claim.seq} had ${known.parts} parts, this part says ${claim.parts}`);
      }
    }

    // 4. Accepted: apply.
    const registered = !agent;
    if (!agent) {
      agent = { agentId: claim.agentId, publicKey: claim.publicKey, region: claim.region, registeredAt: now, lastSeen: now, lastTouch: now, stale: false, services: new Map() };
      this.agentStates.set(agent.agentId, agent);
      events.push({ type: "agent-registered", at: now, agentId: agent.agentId, service: claim.service, region: claim.region, publicKey: keyText(claim.publicKey), pinned });
    }
    const before = this.agentBackends(agent, now);
    let service = known;
    if (!service) {
      service = { tokenDigest: digest, seq: claim.seq, parts: claim.parts, seenParts: new Set(), byPart: new Map() };
      agent.services.set(claim.service, service);
    }
    if (claim.seq > service.seq) {
      service.seq = claim.seq;
      service.parts = claim.parts;
      service.seenParts = new Set();
      for (const index of service.byPart.keys()) if (index >= claim.parts) service.byPart.delete(index);
    }
    service.tokenDigest = digest;
    service.seenParts.add(claim.part);
    service.byPart.set(claim.part, { seq: claim.seq, at: now, sentAt: claim.time, backends: claim.backends.map((b) => ({ ...b })) });
    const silentFor = now - agent.lastSeen;
    agent.publicKey = claim.publicKey;
    agent.region = claim.region;
    agent.lastSeen = now;
    this.dueAt = Math.min(this.dueAt, now + this.thresholdMs);
    if (agent.stale) {
      agent.stale = false;
      events.push({ type: "agent-recovered", at: now, agentId: agent.agentId, silentForMs: silentFor });
    }
    const changed = this.diff(agent, before, now, events, `no longer in agent ${agent.agentId}'s claim`);
    if (pinned === "new" || rekeyed) agent.lastTouch = now;
    else if (now - agent.lastTouch >= this.touchIntervalMs) {
      agent.lastTouch = now;
      try {
        this.pins.touch(agent.agentId, now);
      } catch {
        // last_seen in the store is informational; the next touch tries again.
      }
    }
    return { outcome: "accepted", registered, changed };
  }

  /** Emits backend-added/removed for the agent's backends now against `before`; true when backends() changed. */
  private diff(agent: AgentState, before: Map<string, AgentBackend>, now: number, events: AgentRegistryEvent[], why: string): boolean {
    const after = this.agentBackends(agent, now);
    let changed = false;
    for (const [key, b] of before) {
      if (after.has(key)) continue;
      events.push({ type: "backend-removed", at: now, agentId: agent.agentId, service: b.service, address: b.address, port: b.port, reason: why });
      changed = true;
    }
    for (const [key, b] of after) {
      const old = before.get(key);
      if (!old) {
        events.push({ type: "backend-added", at: now, agentId: agent.agentId, service: b.service, address: b.address, port: b.port });
        changed = true;
      } else if (old.claim !== b.claim || old.weight !== b.weight || old.bleeding !== b.bleeding || old.region !== b.region) changed = true;
    }
    return changed;
  }

  /** One agent's backends by key; where two parts both list one, the part received last wins. */
  private agentBackends(agent: AgentState, now: number): Map<string, AgentBackend> {
    const out = new Map<string, AgentBackend>();
    const seqOf = new Map<string, number>();
    for (const [name, service] of agent.services) {
      for (const part of service.byPart.values()) {
        const fresh = now - part.at < this.thresholdMs;
        for (const b of part.backends) {
          const key = backendKey(name, b.address, b.port);
          const other = out.get(key);
          if (other && (other.lastSeen > part.at || (other.lastSeen === part.at && seqOf.get(key)! >= part.seq))) continue;
          const region = b.region || agent.region || undefined;
          const entry: AgentBackend = {
            key,
            service: name,
            address: b.address,
            port: b.port,
            weight: b.weight,
            agentId: agent.agentId,
            status: b.status,
            detail: b.detail,
            bleeding: b.bleeding === true,
            fresh,
            claim: fresh ? b.status : "unknown",
            lastSeen: part.at,
            sentAt: part.sentAt,
          };
          if (region !== undefined) entry.region = region;
          out.set(key, entry);
          seqOf.set(key, part.seq);
        }
      }
    }
    return out;
  }

  private sweepIfDue(now: number, events: AgentRegistryEvent[]): boolean {
    if (now < this.dueAt) return false;
    const since = this.lastSweep;
    this.lastSweep = now;
    let changed = false;
    // A part crossing stale.threshold since the last sweep changes what backends() says.
    const crossed = (at: number) => at > since && at <= now;
    for (const agent of [...this.agentStates.values()]) {
      if (now - agent.lastSeen >= this.removeAfterMs) {
        const before = this.agentBackends(agent, now);
        agent.services.clear();
        this.agentStates.delete(agent.agentId);
        const why = `agent ${agent.agentId} sent no heartbeat for ${seconds(now - agent.lastSeen)} (stale.remove_after)`;
        changed = this.diff(agent, before, now, events, why) || changed;
        events.push({ type: "agent-removed", at: now, agentId: agent.agentId, reason: `no heartbeat for ${seconds(now - agent.lastSeen)} (stale.remove_after ${seconds(this.removeAfterMs)})` });
        continue;
      }
      for (const [name, service] of agent.services) {
        for (const [index, part] of [...service.byPart]) {
          if (now - part.at >= this.removeAfterMs) {
            const before = this.agentBackends(agent, now);
            service.byPart.delete(index);
            changed = this.diff(agent, before, now, events, `not in any claim for ${seconds(now - part.at)} (stale.remove_after)`) || changed;
          } else if (crossed(part.at + this.thresholdMs)) changed = true;
        }
        if (service.byPart.size === 0) agent.services.delete(name);
      }
      if (!agent.stale && now - agent.lastSeen >= this.thresholdMs) {
        agent.stale = true;
        events.push({ type: "agent-stale", at: now, agentId: agent.agentId, lastSeen: agent.lastSeen });
      }
    }
    this.dueAt = this.nextDue(now) ?? Number.POSITIVE_INFINITY;
    return changed;
  }

  private applyConfig(config: AgentRegistryConfig): void {
    const tokens = new Map<string, Buffer>();
    // A Map, not the object: a service named "constructor" must not find Object's.
    for (const [service, token] of Object.entries(config.agent_tokens)) if (token !== "") tokens.set(service, sha256(token));
    this.tokens = tokens;
    this.thresholdMs = config.stale.threshold;
    this.removeAfterMs = config.stale.remove_after;
  }

  private emit(events: AgentRegistryEvent[]): void {
    for (const event of events) for (const listener of this.listeners) listener(event);
  }
}

function preferred(a: AgentBackend, b: AgentBackend): boolean {
  if (a.fresh !== b.fresh) return a.fresh;
  if (a.lastSeen !== b.lastSeen) return a.lastSeen > b.lastSeen;
  return a.agentId < b.agentId;
}

function compareBackends(a: AgentBackend, b: AgentBackend): number {
  return compareText(a.service, b.service) || compareText(a.address, b.address) || a.port - b.port;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();
const keyText = (key: Uint8Array) => Buffer.from(key).toString("base64");
const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
