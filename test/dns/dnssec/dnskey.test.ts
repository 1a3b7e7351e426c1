import { describe, expect, test } from "bun:test";
import {
  cdnskeyRecords,
  cdsRecords,
  DigestType,
  dnskeyRdata,
  dsRdata,
  formatDnskey,
  formatDs,
  keyTag,
} from "../../../src/dns/dnssec/dnskey.ts";
import { Algorithm, DnskeyFlags } from "../../../src/dns/dnssec/types.ts";
import { RRType } from "../../../src/dns/types.ts";
import { hex, rfc6605P256, rfc6605P384, rfc8080Ed25519 } from "./vectors.ts";

const p256Dnskey = dnskeyRdata(rfc6605P256.flags, Algorithm.ECDSAP256SHA256, rfc6605P256.publicKey);

describe("dnskeyRdata", () => {
  test("is flags, protocol 3, algorithm, key", () => {
    const rdata = dnskeyRdata(DnskeyFlags.ZSK, Algorithm.ED25519, Uint8Array.of(9, 8, 7));
    expect([...rdata]).toEqual([1, 0, 3, 15, 9, 8, 7]);
  });
});

describe("key tags and DS digests match the RFC examples", () => {
  test("RFC 6605 §6.1, P-256 with SHA-256", () => {
    expect(keyTag(p256Dnskey)).toBe(rfc6605P256.tag);
    const ds = dsRdata(rfc6605P256.zone, p256Dnskey);
    expect([...ds.subarray(0, 4)]).toEqual([rfc6605P256.tag >> 8, rfc6605P256.tag & 0xff, 13, DigestType.SHA256]);
    expect(hex(ds.subarray(4))).toBe(rfc6605P256.dsSha256);
  });

  test("RFC 6605 §6.2, SHA-384 digest (digest type 4)", () => {
    expect(keyTag(rfc6605P384.dnskey)).toBe(rfc6605P384.tag);
    const ds = dsRdata(rfc6605P384.zone, rfc6605P384.dnskey, DigestType.SHA384);
    expect(ds[3]).toBe(DigestType.SHA384);
    expect(hex(ds.subarray(4))).toBe(rfc6605P384.dsSha384);
  });

  test.each(rfc8080Ed25519.map((v) => [v.tag, v] as const))("RFC 8080 §6, Ed25519 key %d", (_tag, vector) => {
    const dnskey = dnskeyRdata(vector.flags, Algorithm.ED25519, vector.publicKey);
    expect(keyTag(dnskey)).toBe(vector.tag);
    expect(hex(dsRdata(vector.zone, dnskey).subarray(4))).toBe(vector.dsSha256);
  });

  test("the owner is digested in canonical form, whatever its case", () => {
    expect(dsRdata("Example.NET", p256Dnskey)).toEqual(dsRdata("example.net", p256Dnskey));
  });
});

describe("CDS and CDNSKEY (RFC 7344)", () => {
  const other = dnskeyRdata(DnskeyFlags.KSK, Algorithm.ED25519, rfc8080Ed25519[0]!.publicKey);

  test("CDS holds the keys' DS rdata at the apex, type 59", () => {
    const set = cdsRecords("example.net", 300, [p256Dnskey, other]);
    expect(set).toMatchObject({ name: "example.net", type: RRType.CDS, ttl: 300 });
    expect(set.rdata).toEqual([
      { kind: "bytes", bytes: dsRdata("example.net", p256Dnskey) },
      { kind: "bytes", bytes: dsRdata("example.net", other) },
    ]);
    expect(cdsRecords("example.net", 300, [p256Dnskey], DigestType.SHA384).rdata[0]).toEqual({
      kind: "bytes",
      bytes: dsRdata("example.net", p256Dnskey, DigestType.SHA384),
    });
  });

  test("CDNSKEY holds the DNSKEY rdata itself, type 60", () => {
    const set = cdnskeyRecords("example.net", 300, [p256Dnskey]);
    expect(set).toEqual({ name: "example.net", type: RRType.CDNSKEY, ttl: 300, rdata: [{ kind: "bytes", bytes: p256Dnskey }] });
  });
});

describe("presentation", () => {
  test("formatDs prints the RFC 6605 DS line, digest in upper-case hex", () => {
    expect(formatDs("example.net", dsRdata("example.net", p256Dnskey))).toBe(
      `example.net. IN DS 55648 13 2 ${rfc6605P256.dsSha256.toUpperCase()}`,
    );
  });

  test("formatDnskey prints the RFC 6605 DNSKEY line", () => {
    expect(formatDnskey("example.net", p256Dnskey)).toBe(
      "example.net. IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
    );
  });
});
