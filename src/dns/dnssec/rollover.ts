// Key rollover timing after RFC 7583, as a pure state machine over one zone's keys. Time drives it:
// each key carries when it is due to leave its state (nextTransitionAt), and advance() applies every
// transition that is due, in order, stamping each with its due time (not "now"), so running late or
// replaying a step gives the same keys.
//
// The intervals (all ms), named as in RFC 7583:
//   Ipub     = Dprp + TTLkey              publish → active: every cache holding the DNSKEY RRset has the new key
//   IretZsk  = Dsgn + Dprp + TTLsig       a zone-signing key's last signatures are gone from every cache
//   Iswap    = Dreg + DprpP + TTLds       the new DS is at the parent and no cache holds a DS set without it
//
// ZSK, pre-publication (§3.2.1):
//   new: published at Tpub, active at Tpub + Ipub.
//   old: retired at that same moment (Tret = Tact of its successor), removed at Tret + IretZsk.
// KSK, double-KSK (§3.3.1): both keys sign the DNSKEY RRset while the parent's DS changes over.
//   new: published at Tpub, active at Tpub + Ipub: its DS is offered (the DS API lists it) from then.
//   old: keeps signing until Tact(new) + Iswap, then retired and removed at once: the only thing that
//        needed it was a cached DS set lacking the new key, and there is none left.
// CSK: both at once. The new CSK takes over the zone's data at Tpub + Ipub (the newest active
//   zone-signing key signs data) and the old one keeps signing the DNSKEY RRset as the old KSK would;
//   it retires at Tact(new) + Iswap and is removed at max(that, Tact(new) + IretZsk).
import type { DnssecConfig } from "../../config/types.ts";
import type { Zone } from "../zone/zone.ts";
import type { DnssecKey, KeyRole, KeyState } from "./types.ts";

export interface RolloverTiming {
  /** TTLkey: TTL of the DNSKEY RRset. */
  dnskeyTtl: number;
  /** Dprp: how long a change takes to reach every node serving the zone. */
  propagationDelay: number;
  /** TTLsig: the largest TTL of any signed RRset in the zone. */
  maxZoneTtl: number;
  /** Dsgn: how long signatures made with a key can still be handed out once it stops signing. */
  signingDelay: number;
  /** TTLds: TTL of the DS RRset in the parent zone. */
  dsTtl: number;
  /** Dreg: how long the operator and the parent take to publish a DS once it is offered. */
  registrationDelay: number;
  /** DprpP: how long the parent zone takes to reach all its servers. */
  parentPropagationDelay: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * What vigil cannot see of the parent: a DS TTL of a day (common in TLDs), three days to get the new
 * DS published after the DS API starts listing it, an hour for the parent's servers. Margin is added
 * to our own propagation (a missed key-sync poll, clocks a little apart).
 */
const PARENT_DEFAULTS = { dsTtl: DAY, registrationDelay: 3 * DAY, parentPropagationDelay: HOUR } as const;
const PROPAGATION_MARGIN = HOUR;

/** TTLs in seconds, as the zone holds them. */
export interface ZoneTtls {
  dnskey: number;
  max: number;
}

/**
 * The timing for a zone under this config. Our own propagation delay is one key-sync poll (another
 * node learns of a new key at its next poll) plus the margin. Dsgn is the whole signature validity:
 * a cached signature by the old key may be served until its validity ends.
 */
export function rolloverTiming(dnssec: DnssecConfig, ttls: ZoneTtls): RolloverTiming {
  const sync = dnssec.key_sync.peers.length > 0 ? dnssec.key_sync.poll_interval : 0;
  return {
    dnskeyTtl: ttls.dnskey * 1000,
    propagationDelay: sync + PROPAGATION_MARGIN,
    maxZoneTtl: ttls.max * 1000,
    signingDelay: dnssec.signature_validity,
    ...PARENT_DEFAULTS,
  };
}

/** The largest TTL of anything the zone answers with, in seconds. */
export function maxTtlOf(zone: Zone): number {
  let max = Math.max(zone.soa.ttl, zone.ns.ttl);
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets.values()) max = Math.max(max, set.ttl);
    for (const set of node.services.values()) max = Math.max(max, set.ttl);
  }
  return max;
}

export const publishInterval = (t: RolloverTiming) => t.propagationDelay + t.dnskeyTtl;
export const zskRetireInterval = (t: RolloverTiming) => t.signingDelay + t.propagationDelay + t.maxZoneTtl;
export const dsSwapInterval = (t: RolloverTiming) => t.registrationDelay + t.parentPropagationDelay + t.dsTtl;

export interface KeyChange {
  zone: string;
  tag: number;
  role: KeyRole;
  from: KeyState | "new";
  to: KeyState;
  at: number;
}

export interface Advanced {
  keys: DnssecKey[];
  changes: KeyChange[];
}

export class RolloverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RolloverError";
  }
}

/**
 * Adds a successor to the zone's active key of `role`, made by `generate` (same algorithm), published
 * at `now`. Refused unless the role has exactly one key in use and it is active: one rollover per
 * role at a time. It needs no timing: advance() schedules the activation from `now`, on the node
 * that knows the zone's TTLs (so `vigil keys rollover` can start one in a running node's data_dir).
 */
export function beginRollover(
  keys: readonly DnssecKey[],
  role: KeyRole,
  now: number,
  generate: (current: DnssecKey) => DnssecKey,
): Advanced {
  const inUse = keys.filter((k) => k.role === role && k.state !== "removed");
  const current = inUse.find((k) => k.state === "active");
  if (!current) throw new RolloverError(`no active ${role.toUpperCase()} to roll (the zone's keys: ${keys.map((k) => `${k.role} ${k.tag} ${k.state}`).join(", ")})`);
  if (inUse.length > 1) {
    const busy = inUse.filter((k) => k !== current).map((k) => `${k.tag} ${k.state}${until(k.nextTransitionAt)}`);
    throw new RolloverError(`a ${role.toUpperCase()} rollover of ${current.zone} is already under way (key ${busy.join(", ")})`);
  }
  const added: DnssecKey = { ...generate(current), state: "published", stateSince: now, nextTransitionAt: undefined };
  return { keys: [...keys, added], changes: [{ zone: added.zone, tag: added.tag, role, from: "new", to: "published", at: now }] };
}

/** Applies every transition due at or before `now`, earliest first. */
export function advance(keys: readonly DnssecKey[], now: number, timing: RolloverTiming): Advanced {
  const unscheduled = (k: DnssecKey) => k.state === "published" && k.nextTransitionAt === undefined;
  let current = keys.map((k) => (unscheduled(k) ? { ...k, nextTransitionAt: k.stateSince + publishInterval(timing) } : k));
  const changes: KeyChange[] = [];
  for (;;) {
    const due = current
      .filter((k) => k.nextTransitionAt !== undefined && k.nextTransitionAt <= now)
      .sort((a, b) => a.nextTransitionAt! - b.nextTransitionAt! || a.tag - b.tag)[0];
    if (!due) return { keys: current, changes };
    const at = due.nextTransitionAt!;
    const updates = transition(due, current, at, timing);
    current = current.map((k) => updates.get(k) ?? k);
    for (const [before, after] of updates) {
      if (before.state !== after.state) changes.push({ zone: after.zone, tag: after.tag, role: after.role, from: before.state, to: after.state, at });
    }
  }
}

/** The keys that change when `key` reaches its transition time `at`: itself and maybe its predecessor. */
function transition(key: DnssecKey, keys: DnssecKey[], at: number, timing: RolloverTiming): Map<DnssecKey, DnssecKey> {
  const updates = new Map<DnssecKey, DnssecKey>();
  const moved = (k: DnssecKey, state: KeyState, next: number | undefined) =>
    updates.set(k, { ...k, state, stateSince: at, nextTransitionAt: next });
  if (key.state === "published") {
    moved(key, "active", undefined);
    const predecessor = keys.find((k) => k !== key && k.role === key.role && k.state === "active");
    if (predecessor && key.role === "zsk") moved(predecessor, "retired", at + zskRetireInterval(timing));
    else if (predecessor) updates.set(predecessor, { ...predecessor, nextTransitionAt: at + dsSwapInterval(timing) });
  } else if (key.state === "active") {
    const successor = keys.find((k) => k !== key && k.role === key.role && k.state === "active");
    // A CSK's signatures over zone data stopped when its successor took over; they must expire too.
    const dataSigned = key.role === "csk" && successor ? successor.stateSince + zskRetireInterval(timing) : at;
    moved(key, "retired", Math.max(at, dataSigned));
  } else {
    moved(key, "removed", undefined);
  }
  return updates;
}

function until(at: number | undefined): string {
  return at === undefined ? "" : ` until ${new Date(at).toISOString()}`;
}
