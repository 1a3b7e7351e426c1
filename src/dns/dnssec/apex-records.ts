// The records a signed zone's apex gets from its keys: the DNSKEY set (every published key), and
// CDS/CDNSKEY (RFC 7344/8078) for the keys the parent's DS should point at, so a parent that
// scans for them can follow a KSK rollover by itself.

import { RRType, rrsOf, type RR, type RRset } from "../types.ts";
import { cdnskeyRecords, cdsRecords } from "./dnskey.ts";
import { dnskeyOf } from "./keyring.ts";
import type { DnssecKey } from "./types.ts";

/** One hour: long enough to cache, short enough that a rollover's pre-publication is not slow. */
export const DNSKEY_TTL = 3600;

export function apexRecords(apex: string, published: readonly DnssecKey[]): RR[] {
  const entryPoints = published.filter((k) => k.role !== "zsk" && k.state === "active").map(dnskeyOf);
  const dnskeys: RRset = {
    name: apex,
    type: RRType.DNSKEY,
    ttl: DNSKEY_TTL,
    rdata: published.map((k) => ({ kind: "bytes", bytes: dnskeyOf(k) })),
  };
  return [dnskeys, cdsRecords(apex, DNSKEY_TTL, entryPoints), cdnskeyRecords(apex, DNSKEY_TTL, entryPoints)].flatMap(rrsOf);
}
