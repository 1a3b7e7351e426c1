import { describe, expect, test } from "bun:test";
import { CompactDenial, NXNAME, successorOf } from "../../../../src/dns/dnssec/compact-denial.ts";
import { compareCanonical } from "../../../../src/dns/dnssec/name-order.ts";
import { ownedTypes } from "../../../../src/dns/dnssec/nsec-chain.ts";
import { labelBytes, labelsOf, normalizeName } from "../../../../src/lib/dns-name.ts";
import { exampleZone, fakeSigner, proofLines, readNsec } from "./helpers.ts";

const zone = exampleZone();

describe("CompactDenial", () => {
  test("NXDOMAIN: one NSEC at qname, next \\000.qname, bitmap RRSIG NSEC NXNAME", () => {
    const compact = new CompactDenial(zone, fakeSigner().sign);
    const records = compact.nxdomain("nope.example.com");
    expect(proofLines(records)).toEqual([
      `nope.example.com → \\000.nope.example.com: RRSIG NSEC TYPE${NXNAME}`,
      "fake-sig nope.example.com NSEC",
    ]);
    expect(records[0]!.ttl).toBe(60);
  });

  test("NODATA: the types at the name, without NXNAME", () => {
    const compact = new CompactDenial(zone, fakeSigner().sign);
    expect(proofLines(compact.nodata("www.example.com", ownedTypes(zone, "www.example.com")))).toEqual([
      "www.example.com → \\000.www.example.com: A AAAA RRSIG NSEC",
      "fake-sig www.example.com NSEC",
    ]);
  });

  test("NODATA at an empty non-terminal: RRSIG and NSEC only", () => {
    const compact = new CompactDenial(zone, fakeSigner().sign);
    expect(readNsec(compact.nodata("c.example.com", [])[0]!).types).toEqual(["RRSIG", "NSEC"]);
  });

  test("signs per answer (the signer it is given caches)", () => {
    const signer = fakeSigner();
    const compact = new CompactDenial(zone, signer.sign);
    compact.nxdomain("a1.example.com");
    compact.nxdomain("a2.example.com");
    expect(signer.calls).toEqual(["a1.example.com NSEC", "a2.example.com NSEC"]);
  });
});

describe("successorOf", () => {
  const apex = "example.com";
  const wireLength = (name: string) => labelsOf(name).reduce((sum, label) => sum + labelBytes(label).length + 1, 1);
  /** Labels (given as text) on top of example.com. */
  const nameOf = (...labels: string[]) => [...labels, apex].join(".");
  const b63 = "b".repeat(63);

  const cases: { name: string; qname: string; want: string }[] = [
    { name: "a zero label in front when it fits", qname: "www.example.com", want: "\\000.www.example.com" },
    {
      name: "254 bytes: a zero byte added to the first label",
      qname: nameOf("a".repeat(48), b63, b63, b63),
      want: nameOf("a".repeat(48) + "\\000", b63, b63, b63),
    },
    {
      name: "255 bytes: the first label counted up",
      qname: nameOf("a".repeat(49), b63, b63, b63),
      want: nameOf("a".repeat(48) + "b", b63, b63, b63),
    },
    {
      name: "a 63-byte first label cannot grow, so it is counted up",
      qname: nameOf("y".repeat(63), "b".repeat(48), b63, b63),
      want: nameOf("y".repeat(62) + "z", "b".repeat(48), b63, b63),
    },
    {
      name: "counting up skips the upper-case letters",
      qname: nameOf("a".repeat(48) + "@", b63, b63, b63),
      want: nameOf("a".repeat(48) + "[", b63, b63, b63),
    },
    {
      name: "a first label of 0xff bytes is dropped and its parent counted up",
      qname: nameOf("\\255".repeat(49), b63, b63, b63),
      want: nameOf("b".repeat(62) + "c", b63, b63),
    },
  ];
  for (const { name, qname, want } of cases) {
    test(name, () => {
      const next = successorOf(qname, apex);
      expect(next).toBe(want);
      expect(compareCanonical(qname, next)).toBeLessThan(0);
      expect(wireLength(next)).toBeLessThanOrEqual(255);
      expect(normalizeName(next)).toBe(next);
    });
  }

  test("the test names are as long as they claim", () => {
    expect(wireLength(cases[1]!.qname)).toBe(254);
    expect(wireLength(cases[2]!.qname)).toBe(255);
    expect(wireLength(cases[5]!.qname)).toBe(255);
  });

  test("a compact NXDOMAIN for a 255-byte name can be made", () => {
    const qname = cases[2]!.qname;
    const nsec = readNsec(new CompactDenial(zone, fakeSigner().sign).nxdomain(qname)[0]!);
    expect(nsec.next).toBe(cases[2]!.want);
  });
});
