// What our zones say about (qname, qtype), before policy and signing. Pure and synchronous, run per
// query on a response-cache miss; the server maps the result kind to rcode and flags (as CoreDNS's
// file plugin does). Result `zone` is the apex of the zone holding qname; for nodata/nxdomain, `soa`
// is that of the zone where a CNAME chain ended.

import { isAtOrBelow } from "../../lib/dns-name.ts";
import type { AnswerRRset, LookupResult, RRset } from "../types.ts";
import { RRType, isServiceRRset } from "../types.ts";
import { type Zone, type ZoneNode, type ZoneSet, highestCut, wildcardFor } from "./zone.ts";

/** CNAMEs followed before giving up and answering with the chain so far. */
const MAX_CNAME_CHAIN = 8;
/** RFC 8482: ANY gets one RRset; these types first, else the lowest type code at the name. */
const ANY_PREFERENCE = [RRType.A, RRType.AAAA] as const;
const ADDRESS_TYPES = [RRType.A, RRType.AAAA] as const;

/** One name's answer within one zone. */
type Step =
  | { kind: "answer"; sets: AnswerRRset[] }
  | { kind: "cname"; cname: RRset; target: string }
  | { kind: "nodata" | "nxdomain" }
  | { kind: "delegation"; ns: RRset };

const NODATA: Step = { kind: "nodata" };
const NXDOMAIN: Step = { kind: "nxdomain" };
const REFUSED: LookupResult = Object.freeze({ kind: "refused" });

export function lookup(zones: ZoneSet, qname: string, qtype: number): LookupResult {
  const zone = zones.zoneForType(qname, qtype);
  if (!zone) return REFUSED;
  const chain: RRset[] = [];
  const visited = new Set<string>();
  let name = qname;
  let current = zone;
  for (;;) {
    const step = lookupName(current, name, qtype);
    switch (step.kind) {
      case "answer":
        return { kind: "answer", zone: zone.apex, answer: [...chain, ...step.sets], additional: additionalFor(zones, step.sets) };
      case "nodata":
      case "nxdomain":
        return { kind: step.kind, zone: zone.apex, answer: chain, soa: current.soa };
      case "delegation":
        if (chain.length === 0) return { kind: "delegation", zone: zone.apex, ns: step.ns, glue: glueFor(zones, current, step.ns) };
        // A chain that leads into a child zone: the resolver follows it from the last CNAME itself.
        return { kind: "answer", zone: zone.apex, answer: chain, additional: [] };
      case "cname": {
        chain.push(step.cname);
        visited.add(name);
        const next = chain.length < MAX_CNAME_CHAIN && !visited.has(step.target) ? zones.zoneForType(step.target, qtype) : undefined;
        // Out of our zones, a loop, or too long: answer with the chain and let the resolver go on.
        if (!next) return { kind: "answer", zone: zone.apex, answer: chain, additional: [] };
        name = step.target;
        current = next;
      }
    }
  }
}

function lookupName(zone: Zone, name: string, qtype: number): Step {
  const cut = highestCut(zone.cuts, zone.apex, name);
  // The DS at a cut is the parent's data (RFC 4035 §3.1.4.1), so it is answered here, not referred.
  if (cut !== undefined && !(cut === name && qtype === RRType.DS)) {
    return { kind: "delegation", ns: zone.nodes.get(cut)!.rrsets.get(RRType.NS)! };
  }
  const node = zone.nodes.get(name);
  if (node) return fromNode(node, name, qtype);
  if (zone.emptyNonTerminals.has(name)) return NODATA;
  return fromWildcard(zone, name, qtype);
}

/** RFC 4592 §3.3.1: the source of synthesis is "*." under the closest existing ancestor. */
function fromWildcard(zone: Zone, name: string, qtype: number): Step {
  const source = wildcardFor(zone, name);
  const node = zone.nodes.get(source);
  if (node) return fromNode(node, name, qtype);
  return zone.emptyNonTerminals.has(source) ? NODATA : NXDOMAIN;
}

/** The answer from one node; `owner` is the query name, which differs from the node's for a wildcard. */
function fromNode(node: ZoneNode, owner: string, qtype: number): Step {
  if (qtype === RRType.ANY) {
    const set = minimalAny(node);
    return set ? { kind: "answer", sets: [withOwner(set, owner)] } : NODATA;
  }
  const set = node.services.get(qtype) ?? node.rrsets.get(qtype);
  if (set) return { kind: "answer", sets: [withOwner(set, owner)] };
  const cname = node.rrsets.get(RRType.CNAME);
  if (cname?.rdata[0]?.kind === "name") return { kind: "cname", cname: withOwner(cname, owner), target: cname.rdata[0].target };
  return NODATA;
}

function minimalAny(node: ZoneNode): AnswerRRset | undefined {
  for (const type of ANY_PREFERENCE) {
    const set = node.services.get(type) ?? node.rrsets.get(type);
    if (set) return set;
  }
  return node.rrsets.get(Math.min(...node.rrsets.keys()));
}

function withOwner<T extends AnswerRRset>(set: T, owner: string): T {
  return set.name === owner ? set : { ...set, name: owner };
}

/** A/AAAA of the names an answer points at (MX exchange, SRV target, NS at the apex), when we have them. */
function additionalFor(zones: ZoneSet, sets: readonly AnswerRRset[]): RRset[] {
  const targets = sets.flatMap((set) =>
    isServiceRRset(set)
      ? []
      : set.rdata.flatMap((rdata) => {
          if (rdata.kind === "mx") return [rdata.exchange];
          if (rdata.kind === "srv") return [rdata.target];
          return rdata.kind === "name" && set.type === RRType.NS ? [rdata.target] : [];
        }),
  );
  return addressSets(zones, targets);
}

/** Glue for a referral: addresses of the NS targets inside the delegating zone (in bailiwick). */
function glueFor(zones: ZoneSet, zone: Zone, ns: RRset): RRset[] {
  const targets = ns.rdata.flatMap((rdata) => (rdata.kind === "name" && isAtOrBelow(rdata.target, zone.apex) ? [rdata.target] : []));
  return addressSets(zones, targets);
}

/** Static A/AAAA sets of these names (never service sets: those are chosen per query). */
function addressSets(zones: ZoneSet, names: readonly string[]): RRset[] {
  const sets: RRset[] = [];
  for (const name of new Set(names)) {
    const rrsets = zones.findZone(name)?.nodes.get(name)?.rrsets;
    for (const type of ADDRESS_TYPES) {
      const set = rrsets?.get(type);
      if (set) sets.push(set);
    }
  }
  return sets;
}
