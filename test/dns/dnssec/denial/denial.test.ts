import { describe, expect, test } from "bun:test";
import { NsecDenial } from "../../../../src/dns/dnssec/denial.ts";
import { RRType } from "../../../../src/dns/types.ts";
import { lookup } from "../../../../src/dns/zone/lookup.ts";
import { exampleZones, fakeSigner, proofLines } from "./helpers.ts";

const zones = exampleZones();
const zone = zones.zones[0]!;

/** One link of the example zone's chain as a proof shows it: the NSEC, then its RRSIG. */
const link = (owner: string, next: string, types: string) => [`${owner} → ${next}: ${types} RRSIG NSEC`, `fake-sig ${owner} NSEC`];
const APEX = [`example.com → app.example.com: NS SOA MX RRSIG NSEC DNSKEY`, "fake-sig example.com NSEC"];
const APP = link("app.example.com", "a.b.c.example.com", "A");
const ABC = link("a.b.c.example.com", "dual.example.com", "TXT");
const NODS = link("nods.example.com", "ns1.example.com", "NS");
const SUB = link("sub.example.com", "*.wild.example.com", "NS DS");
const WILD = link("*.wild.example.com", "www.example.com", "A TXT");
const WWW = link("www.example.com", "example.com", "A AAAA");

function newDenial() {
  const signer = fakeSigner();
  return { denial: new NsecDenial(zone, signer.sign), calls: signer.calls };
}

interface Case {
  name: string;
  qname: string;
  qtype: number;
  want: string[];
}

describe("nxdomain", () => {
  const cases: Case[] = [
    { name: "between two owners; no *.example.com", qname: "nope.example.com", qtype: RRType.A, want: [...NODS, ...APEX] },
    { name: "after the last owner: the link back to the apex", qname: "zzz.example.com", qtype: RRType.A, want: [...WWW, ...APEX] },
    { name: "before the first child: one NSEC proves both", qname: "0.example.com", qtype: RRType.A, want: APEX },
    { name: "below an owner: its NSEC covers qname and the wildcard", qname: "x.a.b.c.example.com", qtype: RRType.A, want: ABC },
    { name: "below an empty non-terminal, the closest encloser", qname: "x.b.c.example.com", qtype: RRType.TXT, want: [...ABC, ...APP] },
  ];
  for (const { name, qname, qtype, want } of cases) {
    test(name, () => {
      expect(lookup(zones, qname, qtype).kind).toBe("nxdomain");
      expect(proofLines(newDenial().denial.nxdomain(qname))).toEqual(want);
    });
  }
});

describe("nodata", () => {
  const cases: Case[] = [
    { name: "at a name with data: its own NSEC, without the type", qname: "www.example.com", qtype: RRType.MX, want: WWW },
    { name: "DS at an unsigned delegation point", qname: "nods.example.com", qtype: RRType.DS, want: NODS },
    { name: "at an empty non-terminal: the NSEC whose next lies below it", qname: "c.example.com", qtype: RRType.A, want: APP },
    { name: "at an empty non-terminal above a wildcard", qname: "wild.example.com", qtype: RRType.A, want: SUB },
    { name: "from a wildcard, when one NSEC covers qname and owns the wildcard", qname: "foo.wild.example.com", qtype: RRType.MX, want: WILD },
    // "!" sorts before "*", so qname's covering NSEC is the one before the wildcard.
    { name: "from a wildcard: qname's covering NSEC and the wildcard's", qname: "!.wild.example.com", qtype: RRType.MX, want: [...SUB, ...WILD] },
  ];
  for (const { name, qname, qtype, want } of cases) {
    test(name, () => {
      expect(lookup(zones, qname, qtype).kind).toBe("nodata");
      expect(proofLines(newDenial().denial.nodata(qname))).toEqual(want);
    });
  }
});

describe("wildcardAnswer", () => {
  test("proves the query name itself does not exist", () => {
    const { denial } = newDenial();
    expect(lookup(zones, "foo.wild.example.com", RRType.A).kind).toBe("answer");
    expect(proofLines(denial.wildcardAnswer("foo.wild.example.com"))).toEqual(WILD);
    expect(proofLines(denial.wildcardAnswer("!.wild.example.com"))).toEqual(SUB);
  });
});

describe("delegation", () => {
  test("an unsigned delegation's NSEC shows NS and no DS", () => {
    expect(proofLines(newDenial().denial.delegation("nods.example.com"))).toEqual(NODS);
  });

  test("nothing for a delegation with a DS: the signed DS is the proof", () => {
    expect(newDenial().denial.delegation("sub.example.com")).toEqual([]);
  });
});

describe("emptyService", () => {
  test("a family without healthy backends leaves the bitmap, with the same next name", () => {
    const { denial } = newDenial();
    expect(proofLines(denial.emptyService("dual.example.com", [RRType.AAAA]))).toEqual([
      "dual.example.com → mail.example.com: AAAA RRSIG NSEC",
      "fake-sig dual.example.com NSEC",
    ]);
    expect(proofLines(denial.emptyService("dual.example.com", []))).toEqual([
      "dual.example.com → mail.example.com: RRSIG NSEC",
      "fake-sig dual.example.com NSEC",
    ]);
  });

  test("each (name, bitmap) is signed once", () => {
    const { denial, calls } = newDenial();
    const built = calls.length;
    const first = denial.emptyService("app.example.com", []);
    expect(denial.emptyService("app.example.com", [])).toBe(first);
    expect(calls.length).toBe(built + 1);
  });

  test("with every service type left it is the pre-built NSEC, signed at build", () => {
    const { denial, calls } = newDenial();
    const built = calls.length;
    expect(proofLines(denial.emptyService("app.example.com", [RRType.A]))).toEqual(APP);
    expect(calls.length).toBe(built);
  });
});

describe("signing", () => {
  test("the whole chain is signed once, when built", () => {
    const { calls } = newDenial();
    expect(calls).toEqual([
      "example.com NSEC",
      "app.example.com NSEC",
      "a.b.c.example.com NSEC",
      "dual.example.com NSEC",
      "mail.example.com NSEC",
      "nods.example.com NSEC",
      "ns1.example.com NSEC",
      "sub.example.com NSEC",
      "*.wild.example.com NSEC",
      "www.example.com NSEC",
    ]);
  });

  test("a flood of random names signs nothing more", () => {
    const { denial, calls } = newDenial();
    const built = calls.length;
    for (let i = 0; i < 1000; i++) {
      denial.nxdomain(`r${i.toString(36)}.x${i % 7}.example.com`);
      denial.nodata("www.example.com");
    }
    expect(calls.length).toBe(built);
  });

  test("NSEC TTLs are the negative-caching TTL", () => {
    for (const rr of newDenial().denial.nxdomain("nope.example.com")) expect(rr.ttl).toBe(60);
  });
});
