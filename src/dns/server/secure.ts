// DNSSEC for a response whose query set DO: RRSIGs after every RRset in answer and authority, and
// the proofs a validator needs for NODATA, NXDOMAIN and unsigned delegations (RFC 4035 §3.1).

import { Rcode, RRType, rrsOf, type LookupResult, type RR, type RRset } from "../types.ts";
import { ownedTypes } from "../dnssec/nsec-chain.ts";
import { NsecDenial } from "../dnssec/denial.ts";
import type { ZoneSigning } from "../dnssec/zone-signing.ts";
import type { Sections } from "./sections.ts";
import { nameExists, wildcardFor, type Zone } from "../zone/zone.ts";

export function secureSections(sections: Sections, result: LookupResult, qname: string, signing: ZoneSigning): Sections {
  switch (result.kind) {
    case "refused":
      return sections;
    case "delegation":
      return { ...sections, authority: [...sections.authority, ...delegationProof(result.ns.name, result.zone, signing)] };
    case "answer":
      if (sections.emptyService) return negative(sections, sections.emptyService.name, signing, sections.emptyService.type);
      return { ...sections, answer: signed(sections.answer, signing) };
    case "nodata":
    case "nxdomain":
      return negative(sections, finalName(result, qname), signing);
  }
}

/** Signs each RRset of a section (consecutive records of one name and type), keeping its order. */
function signed(records: readonly RR[], signing: ZoneSigning): RR[] {
  const out: RR[] = [];
  for (let start = 0; start < records.length; ) {
    const first = records[start]!;
    let end = start + 1;
    while (end < records.length && records[end]!.name === first.name && records[end]!.type === first.type) end++;
    const group = records.slice(start, end);
    const set: RRset = { name: first.name, type: first.type, ttl: first.ttl, rdata: group.map((r) => r.rdata) };
    out.push(...group, ...(signing.forName(first.name)?.sign(set) ?? []));
    start = end;
  }
  return out;
}

/**
 * NODATA and NXDOMAIN at `name` (the end of any CNAME chain): the signed SOA and the denial proofs.
 * With compact denial (RFC 9824) NXDOMAIN becomes NOERROR with an NSEC that owns the name.
 */
function negative(sections: Sections, name: string, signing: ZoneSigning, emptyType?: number): Sections {
  const security = signing.forName(name);
  if (!security) return sections;
  const denial = security.denial();
  const nxdomain = sections.rcode === Rcode.NXDOMAIN;
  const present = () => typesAt(security.zone, name).filter((t) => t !== emptyType);
  let proof: RR[];
  if (denial instanceof NsecDenial) {
    proof = nxdomain ? denial.nxdomain(name) : emptyType !== undefined ? denial.emptyService(name, present()) : denial.nodata(name);
  } else {
    proof = nxdomain ? denial.nxdomain(name) : denial.nodata(name, present());
  }
  // The authority section of a negative answer is the zone's SOA (sections.ts): sign that very set.
  const soa = security.zone.soa;
  return {
    ...sections,
    rcode: nxdomain && !(denial instanceof NsecDenial) ? Rcode.NOERROR : sections.rcode,
    answer: signed(sections.answer, signing),
    authority: [...sections.authority, ...security.sign(soa), ...proof],
  };
}

/** A referral: the signed DS set when the child is signed, else the NSEC proving there is none. */
function delegationProof(cut: string, parentApex: string, signing: ZoneSigning): RR[] {
  const parent = signing.forName(parentApex);
  if (!parent) return [];
  const ds = parent.zone.nodes.get(cut)?.rrsets.get(RRType.DS);
  if (ds) return [...rrsOf(ds), ...parent.sign(ds)];
  const denial = parent.denial();
  // Compact denial has no chain: an NSEC owned by the cut, listing NS and no DS, says the same.
  return denial instanceof NsecDenial ? denial.delegation(cut) : denial.nodata(cut, ownedTypes(parent.zone, cut));
}

/** The types a name answers with: its own, or for a name made from a wildcard, the wildcard's. */
function typesAt(zone: Zone, name: string): number[] {
  return ownedTypes(zone, nameExists(zone, name) ? name : wildcardFor(zone, name));
}

/** Where a CNAME chain ended: the last target, or qname itself. */
function finalName(result: LookupResult & { answer: readonly unknown[] }, qname: string): string {
  let name = qname;
  for (const set of result.answer as RRset[]) {
    const target = set.type === RRType.CNAME ? set.rdata[0] : undefined;
    if (target?.kind === "name") name = target.target;
  }
  return name;
}
