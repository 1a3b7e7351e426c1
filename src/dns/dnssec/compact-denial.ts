// RFC 9824 compact denial of existence: every negative answer is one NSEC at the query name whose next
// name is the name's immediate successor, so it covers nothing else and reveals nothing of the zone. A name
// that does not exist is answered NOERROR (the caller rewrites the rcode) with NXNAME in the bitmap, so
// a resolver can still tell it apart from NODATA. Made per query; the injected signer caches signatures.

import { joinName, labelBytes, labelsOf, presentLabel } from "../../lib/dns-name.ts";
import type { RR } from "../types.ts";
import type { Zone } from "../zone/zone.ts";
import { type SignSet, nsecSet, nsecTtl, withSignatures } from "./nsec-chain.ts";

/** RFC 9824 §2: the meta-type that marks a name as nonexistent in a compact answer's bitmap. */
export const NXNAME = 128;

const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;
const LAST_BYTE = 0xff;
/** Canonical labels hold no upper-case letters (RFC 4034 §6.2), so counting up skips from "@" past "Z". */
const BEFORE_UPPER = 0x40;
const AFTER_UPPER = 0x5b;

export class CompactDenial {
  private readonly ttl: number;

  constructor(
    private readonly zone: Zone,
    private readonly sign: SignSet,
  ) {
    this.ttl = nsecTtl(zone);
  }

  /** NXDOMAIN, sent as NOERROR: the name "exists" with nothing but its NSEC, RRSIG and NXNAME. */
  nxdomain(qname: string): RR[] {
    return this.nsecAt(qname, [NXNAME]);
  }

  /**
   * NODATA: `types` are those with data at qname right now (the qtype is not among them). An empty
   * non-terminal passes none; a name answered from a wildcard passes the wildcard's types.
   */
  nodata(qname: string, types: Iterable<number>): RR[] {
    return this.nsecAt(qname, types);
  }

  private nsecAt(qname: string, types: Iterable<number>): RR[] {
    return withSignatures(nsecSet(qname, successorOf(qname, this.zone.apex), types, this.ttl), this.sign);
  }
}

/**
 * The first name after qname in canonical order: "\000.qname". When that does not fit in 255 bytes nothing
 * can exist below qname either, so the successor is found as RFC 4470 §3.1.2 does: the first label with a
 * zero byte added when there is room, else that label counted up (its last byte first); a label that
 * cannot grow or count up is dropped and the same is tried on its parent.
 */
export function successorOf(qname: string, apex: string): string {
  const labels = labelsOf(qname);
  const labelData = labels.map(labelBytes);
  let room = MAX_NAME_WIRE - labelData.reduce((sum, bytes) => sum + bytes.length + 1, 1);
  if (room >= 2) return joinName("\\000", qname);
  const belowApex = labels.length - labelsOf(apex).length;
  for (let i = 0; i < belowApex; i++) {
    const bytes = labelData[i]!;
    const parent = labels.slice(i + 1);
    // A longer label sorts after the label it starts with and after everything below that.
    if (room >= 1 && bytes.length < MAX_LABEL) return [presentLabel([...bytes, 0]), ...parent].join(".");
    const counted = countUp(bytes);
    if (counted) return [presentLabel(counted), ...parent].join(".");
    room += bytes.length + 1;
  }
  // Nothing below the apex can grow or count up: qname is the last name the zone could hold.
  return apex;
}

/** The smallest label after `bytes` that is no longer: trailing 0xff bytes go, the last other byte goes up. */
function countUp(bytes: readonly number[]): number[] | undefined {
  const kept = [...bytes];
  while (kept.length > 0) {
    const last = kept.pop()!;
    if (last !== LAST_BYTE) return [...kept, last === BEFORE_UPPER ? AFTER_UPPER : last + 1];
  }
  return undefined;
}
