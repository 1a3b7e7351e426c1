import { describe, expect, test } from "bun:test";
import { buildNsecChain, nsecSet, nsecTtl, ownedTypes } from "../../../../src/dns/dnssec/nsec-chain.ts";
import { RRType } from "../../../../src/dns/types.ts";
import { typeName } from "../../../../src/dns/zone/type-names.ts";
import { exampleZone, readNsec } from "./helpers.ts";

const zone = exampleZone();

describe("buildNsecChain", () => {
  const links = buildNsecChain(zone).map((link) => `${link.owner} → ${link.next}: ${link.types.map(typeName).join(" ")}`);

  test("links every name with data in canonical order, services included, the last back to the apex", () => {
    expect(links).toEqual([
      "example.com → app.example.com: NS SOA MX DNSKEY",
      "app.example.com → a.b.c.example.com: A",
      "a.b.c.example.com → dual.example.com: TXT",
      "dual.example.com → mail.example.com: A AAAA",
      "mail.example.com → nods.example.com: A",
      "nods.example.com → ns1.example.com: NS",
      "ns1.example.com → sub.example.com: A",
      "sub.example.com → *.wild.example.com: NS DS",
      "*.wild.example.com → www.example.com: A TXT",
      "www.example.com → example.com: A AAAA",
    ]);
  });

  test("empty non-terminals (c, b.c, wild) and names below a cut (ns.sub, x.ns.sub) get no link", () => {
    const owners = buildNsecChain(zone).map((link) => link.owner);
    for (const name of ["c.example.com", "b.c.example.com", "wild.example.com", "ns.sub.example.com", "x.ns.sub.example.com"]) {
      expect(owners).not.toContain(name);
    }
  });
});

describe("ownedTypes", () => {
  test("a delegation point keeps only the parent's side: NS and DS, not the address there", () => {
    expect(zone.nodes.get("sub.example.com")!.rrsets.has(RRType.A)).toBe(true);
    expect(ownedTypes(zone, "sub.example.com")).toEqual([RRType.NS, RRType.DS]);
  });

  test("nothing for glue below a cut, an empty non-terminal or a missing name", () => {
    expect(ownedTypes(zone, "ns.sub.example.com")).toEqual([]);
    expect(ownedTypes(zone, "b.c.example.com")).toEqual([]);
    expect(ownedTypes(zone, "nope.example.com")).toEqual([]);
  });
});

describe("nsecSet", () => {
  test("writes the next name in full and adds RRSIG and NSEC to the bitmap", () => {
    const set = nsecSet("www.example.com", "example.com", [RRType.AAAA, RRType.A], 60);
    expect(set.rdata).toHaveLength(1);
    expect(readNsec({ name: set.name, type: set.type, ttl: set.ttl, rdata: set.rdata[0]! })).toEqual({
      owner: "www.example.com",
      next: "example.com",
      types: ["A", "AAAA", "RRSIG", "NSEC"],
      ttl: 60,
    });
    // 7 "example" 3 "com" 0, uncompressed, then the bitmap.
    const rdata = set.rdata[0]!;
    if (rdata.kind !== "bytes") throw new Error("NSEC rdata is not bytes");
    const label = (text: string) => [text.length, ...new TextEncoder().encode(text)];
    expect([...rdata.bytes.subarray(0, 13)]).toEqual([...label("example"), ...label("com"), 0]);
  });
});

describe("nsecTtl", () => {
  test("is the SOA minimum when the SOA's own TTL is not lower", () => {
    expect(nsecTtl(zone)).toBe(60);
    expect(nsecTtl({ ...zone, soa: { ...zone.soa, ttl: 300 } })).toBe(60);
  });

  test("is the SOA's TTL when that is lower (RFC 9077)", () => {
    expect(nsecTtl({ ...zone, soa: { ...zone.soa, ttl: 30 } })).toBe(30);
  });
});
