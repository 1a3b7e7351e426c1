// Turns a lookup result plus the policy's choices into the sections of a response (CoreDNS style:
// the result kind decides rcode and flags; nothing here looks at the wire).

import { isServiceRRset, Rcode, rrsOf, type AnswerRRset, type LookupResult, type RR, type RRset, type ServiceRRset } from "../types.ts";
import type { Selection } from "../policy/select.ts";

export interface Sections {
  rcode: number;
  authoritative: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** A service set the policy left empty turned this answer into NODATA at that name and type. */
  emptyService?: { name: string; type: number };
}

/** The service-chosen sets in a result, in answer order: the policy runs once for each. */
export function serviceSetsOf(result: LookupResult): ServiceRRset[] {
  if (result.kind === "refused" || result.kind === "delegation") return [];
  return result.answer.filter(isServiceRRset);
}


/**
 * `selections[i]` answers `serviceSetsOf(result)[i]`. A service set the policy left empty ends the
 * answer as NODATA with `soaFor(name)` in authority (RFC 2308), so resolvers cache the absence briefly.
 */
export function sectionsFor(result: LookupResult, selections: readonly Selection[], soaFor: (name: string) => RRset): Sections {
  switch (result.kind) {
    case "refused":
      return { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] };
    case "delegation":
      return { rcode: Rcode.NOERROR, authoritative: false, answer: [], authority: rrsOf(result.ns), additional: result.glue.flatMap(rrsOf) };
    case "answer": {
      const { answer, emptyService } = expand(result.answer, selections);
      if (emptyService) return { ...negative(Rcode.NOERROR, answer, soaFor(emptyService.name)), emptyService };
      return { rcode: Rcode.NOERROR, authoritative: true, answer, authority: [], additional: result.additional.flatMap(rrsOf) };
    }
    case "nodata":
      return negative(Rcode.NOERROR, expand(result.answer, selections).answer, result.soa);
    case "nxdomain":
      return negative(Rcode.NXDOMAIN, expand(result.answer, selections).answer, result.soa);
  }
}

function negative(rcode: number, answer: RR[], soa: RRset): Sections {
  return { rcode, authoritative: true, answer, authority: rrsOf(soa), additional: [] };
}

function expand(sets: readonly AnswerRRset[], selections: readonly Selection[]): { answer: RR[]; emptyService?: { name: string; type: number } } {
  const answer: RR[] = [];
  let next = 0;
  for (const set of sets) {
    if (!isServiceRRset(set)) {
      answer.push(...rrsOf(set));
      continue;
    }
    const chosen = selections[next++]?.endpoints ?? [];
    if (chosen.length === 0) return { answer, emptyService: { name: set.name, type: set.type } };
    for (const e of chosen) answer.push({ name: set.name, type: set.type, ttl: set.ttl, rdata: { kind: "bytes", bytes: e.bytes } });
  }
  return { answer };
}

