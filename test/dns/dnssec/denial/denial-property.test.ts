// For random names in a random zone of about 50 names, whatever lookup decides, the NSECs denial returns
// really prove it, checked with nothing but compareCanonical and the zone's own list of existing names.

import { expect, test } from "bun:test";
import { NsecDenial } from "../../../../src/dns/dnssec/denial.ts";
import { compareCanonical } from "../../../../src/dns/dnssec/name-order.ts";
import type { RR } from "../../../../src/dns/types.ts";
import { RRType } from "../../../../src/dns/types.ts";
import { lookup } from "../../../../src/dns/zone/lookup.ts";
import { typeName } from "../../../../src/dns/zone/type-names.ts";
import type { Zone, ZoneSet } from "../../../../src/dns/zone/zone.ts";
import { isAtOrBelow, joinName, parentOf } from "../../../../src/lib/dns-name.ts";
import { service, zonesFrom } from "../../zone/helpers.ts";
import { type Nsec, fakeSigner, readNsec } from "./helpers.ts";

const APEX = "example.com";
const ZONE_LABELS = ["a", "b", "mm", "z9", "x-y", "q"];
/** Query labels: the zone's, the service's and the delegation's, and others that sort before, between and after them. */
const QUERY_LABELS = [...ZONE_LABELS, "svc", "cut", "0", "aa", "c", "zz", "\\001", "!", "~", "*"];

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomName(next: () => number, labels: readonly string[], maxDepth: number): string {
  const depth = 1 + Math.floor(next() * maxDepth);
  const picked = Array.from({ length: depth }, () => labels[Math.floor(next() * labels.length)]!);
  return joinName(picked.join("."), APEX);
}

function randomZones(next: () => number): ZoneSet {
  const names = new Set<string>();
  while (names.size < 50) {
    const name = randomName(next, ZONE_LABELS, 3);
    names.add(name);
    // A wildcard now and then, but none at the apex, which would leave no name to deny.
    if (next() < 0.1 && parentOf(name) !== APEX) names.add(joinName("*", parentOf(name)!));
  }
  const records = [...names].map((name) => `${name}. TXT "x"`);
  records.push(`cut.${APEX}. NS ns.elsewhere.net.`);
  return zonesFrom({ records: records.join("\n") }, [service(`svc.${APEX}`, ["192.0.2.1"])]);
}

const exists = (zone: Zone, name: string) => zone.nodes.has(name) || zone.emptyNonTerminals.has(name);

function closestEncloser(zone: Zone, name: string): string {
  for (let ancestor = parentOf(name); ancestor !== null; ancestor = parentOf(ancestor)) {
    if (exists(zone, ancestor)) return ancestor;
  }
  throw new Error(`${name} is outside the zone`);
}

function wildcardFor(zone: Zone, name: string): string {
  return joinName("*", closestEncloser(zone, name));
}

/** The NSEC is the name's own and shows the type absent. */
const lacks = (nsec: Nsec, name: string, type: number) => nsec.owner === name && !nsec.types.includes(typeName(type));

const covers = (nsec: Nsec, name: string) =>
  compareCanonical(nsec.owner, name) < 0 && (compareCanonical(name, nsec.next) < 0 || nsec.next === APEX);

function nsecs(records: readonly RR[]): Nsec[] {
  return records.filter((rr) => rr.type === RRType.NSEC).map(readNsec);
}

test("for 2,000 random names, every proof covers what it must", () => {
  const next = random(20240607);
  const zones = randomZones(next);
  const zone = zones.zones[0]!;
  const denial = new NsecDenial(zone, fakeSigner().sign);
  const seen = { nxdomain: 0, nodata: 0, wildcardNodata: 0, wildcardAnswer: 0 };

  for (let i = 0; i < 2000; i++) {
    const qname = randomName(next, QUERY_LABELS, 4);
    const qtype = next() < 0.5 ? RRType.MX : RRType.TXT;
    const result = lookup(zones, qname, qtype);
    if (result.kind === "nxdomain") {
      seen.nxdomain++;
      const proof = nsecs(denial.nxdomain(qname));
      expect(proof.some((nsec) => covers(nsec, qname))).toBe(true);
      expect(proof.some((nsec) => covers(nsec, wildcardFor(zone, qname)))).toBe(true);
    } else if (result.kind === "nodata" && exists(zone, qname)) {
      seen.nodata++;
      const proof = nsecs(denial.nodata(qname));
      // One NSEC: its own without qtype, or, for an empty non-terminal, one that covers it and leads below it.
      expect(proof).toHaveLength(1);
      expect(lacks(proof[0]!, qname, qtype) || (covers(proof[0]!, qname) && isAtOrBelow(proof[0]!.next, qname))).toBe(true);
    } else if (result.kind === "nodata") {
      seen.wildcardNodata++;
      const proof = nsecs(denial.nodata(qname));
      const wildcard = wildcardFor(zone, qname);
      expect(proof.some((nsec) => covers(nsec, qname))).toBe(true);
      // The wildcard's own NSEC without qtype, or (a wildcard that is an empty non-terminal) one covering it.
      expect(proof.some((nsec) => lacks(nsec, wildcard, qtype) || covers(nsec, wildcard))).toBe(true);
    } else if (result.kind === "answer" && !exists(zone, qname)) {
      seen.wildcardAnswer++;
      expect(nsecs(denial.wildcardAnswer(qname)).some((nsec) => covers(nsec, qname))).toBe(true);
    }
  }
  // Enough of each kind for the check to mean something.
  expect(seen.nxdomain).toBeGreaterThan(1000);
  expect(seen.nodata).toBeGreaterThan(80);
  expect(seen.wildcardNodata).toBeGreaterThan(30);
  expect(seen.wildcardAnswer).toBeGreaterThan(25);
});
