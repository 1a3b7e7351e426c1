import { describe, expect, test } from "bun:test";
import { algorithmFor } from "../../../src/dns/dnssec/algorithms.ts";
import { dnskeyRdata, keyTag } from "../../../src/dns/dnssec/dnskey.ts";
import { parseRrsig, signRRset, verifyRRsig, type SigningKey } from "../../../src/dns/dnssec/rrsig.ts";
import { Algorithm, type AlgorithmNumber } from "../../../src/dns/dnssec/types.ts";
import { RRType, type RData, type RR, type RRset } from "../../../src/dns/types.ts";
import { rfc6605P256, rfc8080Ed25519 } from "./vectors.ts";

function rrsigBytes(rr: RR): Uint8Array {
  if (rr.rdata.kind !== "bytes") throw new Error("RRSIG rdata is bytes");
  return rr.rdata.bytes;
}

function withRdata(rr: RR, bytes: Uint8Array): RR {
  return { ...rr, rdata: { kind: "bytes", bytes } };
}

function newKey(algorithm: AlgorithmNumber): SigningKey & { publicKey: Uint8Array } {
  const { privateKey, publicKey } = algorithmFor(algorithm).generate();
  return { algorithm, privateKey, publicKey, tag: keyTag(dnskeyRdata(257, algorithm, publicKey)) };
}

const a = (...octets: number[]): RData => ({ kind: "bytes", bytes: Uint8Array.from(octets) });
const times = { inception: 1_700_000_000, expiration: 1_700_604_800 };

describe("against the RFC examples", () => {
  test.each(rfc8080Ed25519.map((v) => [v.tag, v] as const))("RFC 8080 §6: Ed25519 key %d gives the published RRSIG", (_tag, vector) => {
    const rrsig = signRRset(vector.signed, { algorithm: Algorithm.ED25519, privateKey: vector.privateKey, tag: vector.tag }, vector.zone, vector.times);
    expect(rrsig).toMatchObject({ name: "example.com", type: RRType.RRSIG, ttl: 3600 });
    expect(parseRrsig(rrsigBytes(rrsig))).toEqual({
      typeCovered: RRType.MX,
      algorithm: Algorithm.ED25519,
      labels: 2,
      originalTtl: 3600,
      expiration: vector.times.expiration,
      inception: vector.times.inception,
      keyTag: vector.tag,
      signer: "example.com",
      signature: vector.signature,
    });
    expect(verifyRRsig(vector.signed, rrsig, vector.publicKey)).toBe(true);
  });

  test("RFC 6605 §6.1: the published P-256 signature verifies over the RRSIG fields we write", () => {
    const { signed, rrsig: published } = rfc6605P256;
    const ours = signRRset(signed, { algorithm: Algorithm.ECDSAP256SHA256, privateKey: rfc6605P256.privateKey, tag: rfc6605P256.tag }, "example.net", published);
    const fields = rrsigBytes(ours).subarray(0, -64);
    const theirs = withRdata(ours, Uint8Array.from([...fields, ...published.signature]));
    expect(parseRrsig(rrsigBytes(theirs))?.labels).toBe(published.labels);
    expect(verifyRRsig(signed, theirs, rfc6605P256.publicKey)).toBe(true);
    expect(verifyRRsig({ ...signed, rdata: [a(192, 0, 2, 2)] }, theirs, rfc6605P256.publicKey)).toBe(false);
  });
});

describe.each([Algorithm.ECDSAP256SHA256, Algorithm.ED25519])("signRRset / verifyRRsig, algorithm %d", (algorithm) => {
  const key = newKey(algorithm);
  const set: RRset = { name: "www.example.com", type: RRType.A, ttl: 300, rdata: [a(192, 0, 2, 2), a(192, 0, 2, 1)] };
  const rrsig = signRRset(set, key, "example.com", times);

  test("writes the RRSIG fields", () => {
    expect(rrsig).toMatchObject({ name: "www.example.com", type: RRType.RRSIG, ttl: 300 });
    expect(parseRrsig(rrsigBytes(rrsig))).toMatchObject({ typeCovered: RRType.A, algorithm, labels: 3, originalTtl: 300, ...times, keyTag: key.tag, signer: "example.com" });
  });

  test("record order, duplicates and a decremented TTL do not matter", () => {
    const reordered = { ...set, ttl: 17, rdata: [a(192, 0, 2, 1), a(192, 0, 2, 2), a(192, 0, 2, 1)] };
    expect(verifyRRsig(reordered, rrsig, key.publicKey)).toBe(true);
  });

  test("fails for changed data, another owner, another type or another key", () => {
    expect(verifyRRsig({ ...set, rdata: [a(192, 0, 2, 1)] }, rrsig, key.publicKey)).toBe(false);
    expect(verifyRRsig({ ...set, name: "web.example.com" }, rrsig, key.publicKey)).toBe(false);
    expect(verifyRRsig({ ...set, type: RRType.AAAA }, rrsig, key.publicKey)).toBe(false);
    expect(verifyRRsig(set, rrsig, newKey(algorithm).publicKey)).toBe(false);
  });

  test("fails for a changed field, an unknown algorithm, or what is not an RRSIG", () => {
    const longer = rrsigBytes(rrsig).slice();
    longer[7]! += 1; // original TTL
    const unknown = rrsigBytes(rrsig).slice();
    unknown[2] = 8;
    expect(verifyRRsig(set, withRdata(rrsig, longer), key.publicKey)).toBe(false);
    expect(verifyRRsig(set, withRdata(rrsig, unknown), key.publicKey)).toBe(false);
    expect(verifyRRsig(set, { ...rrsig, type: RRType.A }, key.publicKey)).toBe(false);
  });

  test("names in rdata are signed in lower case, the signer too", () => {
    const mixed: RRset = { name: "example.com", type: RRType.MX, ttl: 300, rdata: [{ kind: "mx", preference: 10, exchange: "Mail.Example.COM" }] };
    const lower: RRset = { ...mixed, rdata: [{ kind: "mx", preference: 10, exchange: "mail.example.com" }] };
    const signed = signRRset(mixed, key, "Example.COM", times);
    expect(parseRrsig(rrsigBytes(signed))?.signer).toBe("example.com");
    expect(verifyRRsig(lower, signed, key.publicKey)).toBe(true);
  });

  test("a wildcard is signed without its * label and verifies for any name it expands to", () => {
    const wildcard: RRset = { name: "*.wild.example.com", type: RRType.A, ttl: 60, rdata: [a(192, 0, 2, 9)] };
    const signed = signRRset(wildcard, key, "example.com", times);
    expect(parseRrsig(rrsigBytes(signed))?.labels).toBe(3);
    expect(verifyRRsig(wildcard, signed, key.publicKey)).toBe(true);
    expect(verifyRRsig({ ...wildcard, name: "a.b.wild.example.com" }, signed, key.publicKey)).toBe(true);
    expect(verifyRRsig({ ...wildcard, name: "a.other.example.com" }, signed, key.publicKey)).toBe(false);
    expect(verifyRRsig({ ...wildcard, name: "example.com" }, signed, key.publicKey)).toBe(false);
  });
});

describe("parseRrsig", () => {
  const key = newKey(Algorithm.ED25519);
  const set: RRset = { name: "example.com", type: RRType.A, ttl: 60, rdata: [a(192, 0, 2, 1)] };

  test("writes times modulo 2^32, as RFC 4034 §3.1.5 serial numbers", () => {
    const rrsig = signRRset(set, key, "example.com", { inception: 2 ** 32 - 10, expiration: 2 ** 32 + 5 });
    expect(parseRrsig(rrsigBytes(rrsig))).toMatchObject({ inception: 2 ** 32 - 10, expiration: 5 });
  });

  test("rejects rdata too short, a signer name that runs off the end, or one that is compressed", () => {
    const fields = rrsigBytes(signRRset(set, key, "example.com", times)).subarray(0, 18);
    expect(parseRrsig(fields)).toBeNull();
    expect(parseRrsig(Uint8Array.from([...fields, 7, 0x65]))).toBeNull();
    expect(parseRrsig(Uint8Array.from([...fields, 0xc0, 12]))).toBeNull();
  });
});
