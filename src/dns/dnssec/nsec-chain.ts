// A zone's NSEC chain (RFC 4034 §4, RFC 4035 §2.3): one link per name that owns authoritative data or is a
// delegation point, in canonical order, each naming the next and the types present, the last pointing
// back to the apex.
//
// Empty non-terminals get no link: they own no data, and the link before one already proves it. That link
// covers the ENT and its next name lies below it, which tells a validator the name exists but is empty
// (NODATA). Names below a delegation point (glue, occluded data) are not ours to prove and stay out; the
// delegation point itself lists only NS, DS when present, RRSIG and NSEC (RFC 4035 §2.3).

import type { RR, RRset } from "../types.ts";
import { RRType, rrsOf } from "../types.ts";
import { type Zone, highestCut } from "../zone/zone.ts";
import { canonicalName } from "./canonical.ts";
import { canonicalKey } from "./name-order.ts";
import { encodeTypeBitmap } from "./type-bitmap.ts";

/** Returns the RRSIG records over one RRset (the signer, injected so denial does not depend on keys). */
export type SignSet = (set: RRset) => RR[];

export interface NsecLink {
  owner: string;
  next: string;
  /** Data types at the owner, RRSIG and NSEC left out (every link adds them). */
  types: readonly number[];
}

/** At a delegation point the parent holds only the referral and the DS; anything else there is glue. */
const PARENT_SIDE_AT_CUT = new Set<number>([RRType.NS, RRType.DS]);

/** Every link of the zone's chain, in canonical order; the last one's next is the apex. */
export function buildNsecChain(zone: Zone): NsecLink[] {
  const owners = [...zone.nodes.keys()]
    .filter((name) => !isOccluded(zone, name))
    .map((name) => ({ name, key: canonicalKey(name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((owner) => owner.name);
  return owners.map((owner, i) => ({ owner, next: owners[(i + 1) % owners.length]!, types: ownedTypes(zone, owner) }));
}

/**
 * The types `name` holds authoritative data for, increasing: static and service sets, only NS/DS at a
 * delegation point, DNSKEY at the apex (the signer publishes it). [] for a name without data.
 */
export function ownedTypes(zone: Zone, name: string): number[] {
  const node = zone.nodes.get(name);
  if (!node || isOccluded(zone, name)) return [];
  let types = [...node.rrsets.keys(), ...node.services.keys()];
  if (zone.cuts.has(name)) types = types.filter((type) => PARENT_SIDE_AT_CUT.has(type));
  if (name === zone.apex) types.push(RRType.DNSKEY);
  return [...new Set(types)].sort((a, b) => a - b);
}

/** RFC 9077: negative answers, NSEC included, live no longer than min(SOA TTL, SOA MINIMUM). */
export function nsecTtl(zone: Zone): number {
  const soa = zone.soa.rdata[0];
  return soa?.kind === "soa" ? Math.min(zone.soa.ttl, soa.minimum) : zone.soa.ttl;
}

/** The NSEC RRset (always one record) at `owner`; RRSIG and NSEC are added to `types`. */
export function nsecSet(owner: string, next: string, types: Iterable<number>, ttl: number): RRset {
  const bitmap = encodeTypeBitmap(new Set([...types, RRType.RRSIG, RRType.NSEC]));
  // The next name is written in full and in lower case (RFC 4034 §6.2).
  const nextName = canonicalName(next);
  const bytes = new Uint8Array(nextName.length + bitmap.length);
  bytes.set(nextName);
  bytes.set(bitmap, nextName.length);
  return { name: owner, type: RRType.NSEC, ttl, rdata: [{ kind: "bytes", bytes }] };
}

/** The set's records followed by their RRSIGs, as they go into the authority section. */
export function withSignatures(set: RRset, sign: SignSet): RR[] {
  const records: RR[] = rrsOf(set);
  return [...records, ...sign(set)];
}

/** Below a delegation point (the point itself is not occluded). */
function isOccluded(zone: Zone, name: string): boolean {
  const cut = highestCut(zone.cuts, zone.apex, name);
  return cut !== undefined && cut !== name;
}
