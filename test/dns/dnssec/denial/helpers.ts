// Shared by the denial tests: a fake signer that counts its calls and returns a recognizable RRSIG, a small
// zone with every kind of name denial must handle, and a reader that turns an NSEC back into text.

import type { RR, RRset } from "../../../../src/dns/types.ts";
import { RRType } from "../../../../src/dns/types.ts";
import { decodeTypeBitmap } from "../../../../src/dns/dnssec/type-bitmap.ts";
import { readName, skipName } from "../../../../src/dns/wire/read-name.ts";
import { typeName } from "../../../../src/dns/zone/type-names.ts";
import type { Zone, ZoneSet } from "../../../../src/dns/zone/zone.ts";
import { service, zonesFrom } from "../../zone/helpers.ts";

export interface FakeSigner {
  sign: (set: RRset) => RR[];
  /** Owner/type of every set signed, in order. */
  calls: string[];
}

/** Returns one RRSIG whose rdata spells out what it covers ("fake-sig <owner> <type>"). */
export function fakeSigner(): FakeSigner {
  const calls: string[] = [];
  const sign = (set: RRset): RR[] => {
    const covered = `${set.name} ${typeName(set.type)}`;
    calls.push(covered);
    return [{ name: set.name, type: RRType.RRSIG, ttl: set.ttl, rdata: { kind: "bytes", bytes: new TextEncoder().encode(`fake-sig ${covered}`) } }];
  };
  return { sign, calls };
}

export interface Nsec {
  owner: string;
  next: string;
  types: string[];
  ttl: number;
}

/** An NSEC record read back from its wire rdata. */
export function readNsec(rr: RR): Nsec {
  if (rr.type !== RRType.NSEC || rr.rdata.kind !== "bytes") throw new Error(`not an NSEC: ${rr.name} ${typeName(rr.type)}`);
  const bytes = rr.rdata.bytes;
  const next = readName(bytes, 0);
  if (next === null) throw new Error(`NSEC at ${rr.name} has a bad next name`);
  return { owner: rr.name, next, types: decodeTypeBitmap(bytes.subarray(skipName(bytes, 0))).map(typeName), ttl: rr.ttl };
}

/** "owner → next: TYPES" per NSEC, and "sig owner" per RRSIG, so a proof reads as one list. */
export function proofLines(records: readonly RR[]): string[] {
  return records.map((rr) => {
    if (rr.type === RRType.RRSIG && rr.rdata.kind === "bytes") return new TextDecoder().decode(rr.rdata.bytes);
    const nsec = readNsec(rr);
    return `${nsec.owner} → ${nsec.next}: ${nsec.types.join(" ")}`;
  });
}

const RECORDS = `
$ORIGIN example.com.
$TTL 300
@        MX    10 mail
www      A     192.0.2.1
         AAAA  2001:db8::1
mail     A     192.0.2.25
a.b.c    TXT   "deep"          ; b.c and c are empty non-terminals
*.wild   A     192.0.2.99      ; wild is an empty non-terminal
         TXT   "wild"
sub      NS    ns.sub
         DS    12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD3440
         A     192.0.2.56      ; an address at the cut is the child's: not in its NSEC
ns.sub   A     192.0.2.54      ; glue below the cut
x.ns.sub A     192.0.2.55
nods     NS    ns2.example.net.
`;

/**
 * Canonical order of its owners: example.com, app, a.b.c, dual, mail, nods, ns1, sub, *.wild, www.
 * app is a service with A; dual one with A and AAAA.
 */
export function exampleZones(): ZoneSet {
  return zonesFrom(
    {
      records: RECORDS,
      nameservers: [
        { name: "ns1.example.com", addresses: ["192.0.2.53"] },
        { name: "ns2.example.net", addresses: [] },
      ],
    },
    [service("app.example.com", ["192.0.2.10"]), service("dual.example.com", ["192.0.2.20", "2001:db8::20"])],
  );
}

export function exampleZone(): Zone {
  return exampleZones().zones[0]!;
}
