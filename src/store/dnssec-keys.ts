// DNSSEC keys: each zone's key set with its revision. Private keys are stored as they are: the
// database is 0600 in a 0700 data_dir, as a signer's key files would be. A set is always written
// whole, and only over the revision the writer read, so a node and `vigil keys` never undo each other.
import type { SqlDatabase } from "./driver.ts";

/** One key as stored; dns/dnssec checks role, state and algorithm when it reads it back. */
export interface StoredKey {
  zone: string;
  role: string;
  algorithm: number;
  tag: number;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
  state: string;
  createdAt: number;
  stateSince: number;
  nextTransitionAt?: number;
}

export interface StoredKeySet {
  zone: string;
  /** Counts deliberate changes (first keys, rollover starts, imports); state changes leave it be. */
  revision: number;
  keys: StoredKey[];
}

export interface DnssecKeys {
  /** The zone's set, removed keys included, oldest first; undefined while the zone has none. */
  get(zone: string): StoredKeySet | undefined;
  /** zone → revision, for every zone that has a set. */
  revisions(): Map<string, number>;
  /**
   * Replaces the zone's whole set if its stored revision is still `expectedRevision` (undefined: the
   * zone has no set yet). False, and nothing written, when someone else changed it meanwhile.
   */
  replace(set: StoredKeySet, expectedRevision: number | undefined): boolean;
}

interface KeyRow {
  zone: string;
  tag: number;
  role: string;
  algorithm: number;
  public_key: Uint8Array;
  private_key: Uint8Array;
  state: string;
  created_at: number;
  state_since: number;
  next_transition_at: number | null;
}

export function createDnssecKeys(db: SqlDatabase): DnssecKeys {
  const readRevision = db.prepare<{ revision: number }>("SELECT revision FROM dnssec_key_sets WHERE zone = ?");
  const readRevisions = db.prepare<{ zone: string; revision: number }>("SELECT zone, revision FROM dnssec_key_sets");
  const readKeys = db.prepare<KeyRow>("SELECT * FROM dnssec_keys WHERE zone = ? ORDER BY created_at, tag");
  const writeRevision = db.prepare(
    `INSERT INTO dnssec_key_sets (zone, revision) VALUES (?, ?)
     ON CONFLICT (zone) DO UPDATE SET revision = excluded.revision`,
  );
  const removeKeys = db.prepare("DELETE FROM dnssec_keys WHERE zone = ?");
  const insertKey = db.prepare(
    `INSERT INTO dnssec_keys (zone, tag, role, algorithm, public_key, private_key, state, created_at, state_since, next_transition_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    get(zone) {
      const stored = readRevision.get(zone);
      if (!stored) return undefined;
      return { zone, revision: stored.revision, keys: readKeys.all(zone).map(fromRow) };
    },
    revisions() {
      return new Map(readRevisions.all().map((r) => [r.zone, r.revision]));
    },
    replace(set, expectedRevision) {
      return db.transaction(() => {
        if (readRevision.get(set.zone)?.revision !== expectedRevision) return false;
        writeRevision.run(set.zone, set.revision);
        removeKeys.run(set.zone);
        for (const k of set.keys) {
          insertKey.run(set.zone, k.tag, k.role, k.algorithm, k.publicKey, k.privateKey, k.state, k.createdAt, k.stateSince, k.nextTransitionAt ?? null);
        }
        return true;
      });
    },
  };
}

function fromRow(r: KeyRow): StoredKey {
  return {
    zone: r.zone,
    role: r.role,
    algorithm: r.algorithm,
    tag: r.tag,
    // better-sqlite3 hands back Buffers: plain bytes either way.
    publicKey: new Uint8Array(r.public_key),
    privateKey: new Uint8Array(r.private_key),
    state: r.state,
    createdAt: r.created_at,
    stateSince: r.state_since,
    nextTransitionAt: r.next_transition_at ?? undefined,
  };
}
