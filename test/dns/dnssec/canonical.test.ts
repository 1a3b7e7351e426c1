import { describe, expect, test } from "bun:test";
import { canonicalName, canonicalRdata, canonicalRdataSet, compareBytes } from "../../../src/dns/dnssec/canonical.ts";
import { RRType, type RData } from "../../../src/dns/types.ts";

/** Wire name from labels, for expectations. */
function wire(...labels: string[]): number[] {
  return [...labels.flatMap((label) => [label.length, ...Buffer.from(label, "latin1")]), 0];
}

const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

describe("canonicalName", () => {
  test("is the uncompressed wire form in lower case", () => {
    expect([...canonicalName("WWW.Example.COM")]).toEqual(wire("www", "example", "com"));
    expect([...canonicalName("")]).toEqual([0]);
  });

  test("decodes escapes, lowering only ASCII letters", () => {
    expect([...canonicalName("a\\.B.\\065\\200.x")]).toEqual([3, 0x61, 0x2e, 0x62, 2, 0x61, 200, 1, 0x78, 0]);
  });
});

describe("canonicalRdata", () => {
  test.each<[string, RData, number[]]>([
    ["NS/CNAME/PTR target", { kind: "name", target: "NS1.Example.com" }, wire("ns1", "example", "com")],
    ["MX", { kind: "mx", preference: 10, exchange: "Mail.Example.com" }, [...u16(10), ...wire("mail", "example", "com")]],
    [
      "SRV",
      { kind: "srv", priority: 1, weight: 2, port: 5060, target: "SIP.example.com" },
      [...u16(1), ...u16(2), ...u16(5060), ...wire("sip", "example", "com")],
    ],
    [
      "SOA",
      { kind: "soa", mname: "Ns1.Example.com", rname: "HostMaster.example.com", serial: 2024010101, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 },
      [...wire("ns1", "example", "com"), ...wire("hostmaster", "example", "com"), ...[2024010101, 3600, 600, 1209600, 60].flatMap(u32)],
    ],
  ])("%s: names lower case and uncompressed", (_what, rdata, expected) => {
    expect([...canonicalRdata(rdata)]).toEqual(expected);
  });

  test("pre-encoded bytes pass unchanged: TXT keeps its case, NSEC's next name too (RFC 6840 §5.1)", () => {
    const txt = Uint8Array.from([5, ...Buffer.from("Hello")]);
    const nsec = Uint8Array.from([...wire("Next", "example", "com"), 0, 1, 0x40]);
    expect(canonicalRdata({ kind: "bytes", bytes: txt })).toEqual(txt);
    expect(canonicalRdata({ kind: "bytes", bytes: nsec })).toEqual(nsec);
  });
});

describe("canonical RRset order (RFC 4034 §6.3)", () => {
  const bytes = (...b: number[]): RData => ({ kind: "bytes", bytes: Uint8Array.from(b) });

  test("compares octets as unsigned numbers, a prefix first", () => {
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(0x80), Uint8Array.of(0x7f, 0xff))).toBeGreaterThan(0);
    expect(compareBytes(Uint8Array.of(3, 4), Uint8Array.of(3, 4))).toBe(0);
  });

  test("sorts by rdata bytes and keeps each value once", () => {
    const set = { name: "x.example", type: RRType.A, ttl: 60, rdata: [bytes(192, 0, 2, 10), bytes(192, 0, 2, 9), bytes(10, 0, 0, 1), bytes(192, 0, 2, 9)] };
    expect(canonicalRdataSet(set).map((b) => [...b])).toEqual([
      [10, 0, 0, 1],
      [192, 0, 2, 9],
      [192, 0, 2, 10],
    ]);
  });

  test("names differing only in case are one record", () => {
    const set = { name: "example", type: RRType.NS, ttl: 60, rdata: [{ kind: "name", target: "NS.example" }, { kind: "name", target: "ns.example" }] as RData[] };
    expect(canonicalRdataSet(set)).toHaveLength(1);
  });

  test("orders by the wire form, not the text: a shorter first label sorts first", () => {
    const set = { name: "example", type: RRType.NS, ttl: 60, rdata: [{ kind: "name", target: "b.example" }, { kind: "name", target: "aa.example" }] as RData[] };
    expect(canonicalRdataSet(set).map((b) => b[0])).toEqual([1, 2]);
  });
});
