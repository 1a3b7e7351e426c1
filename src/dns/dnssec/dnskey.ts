// DNSKEY rdata (RFC 4034 §2), key tags (Appendix B), DS digests (§5, RFC 4509 SHA-256, RFC 6605 SHA-384),
// the CDS/CDNSKEY sets a child publishes for its parent (RFC 7344), and their presentation form.

import { createHash } from "node:crypto";
import { fqdn } from "../../lib/dns-name.ts";
import { RRType, type RRset } from "../types.ts";
import { canonicalName } from "./canonical.ts";
import type { AlgorithmNumber } from "./types.ts";

/** RFC 4034 §2.1.2: the protocol field is always 3. */
const DNSKEY_PROTOCOL = 3;

export const DigestType = { SHA256: 2, SHA384: 4 } as const;
export type DigestTypeNumber = (typeof DigestType)[keyof typeof DigestType];

const HASH_NAME: Record<DigestTypeNumber, string> = { [DigestType.SHA256]: "sha256", [DigestType.SHA384]: "sha384" };

/** flags(2) protocol(1) algorithm(1) public key. */
export function dnskeyRdata(flags: number, algorithm: AlgorithmNumber, publicKey: Uint8Array): Uint8Array {
  const rdata = new Uint8Array(4 + publicKey.length);
  rdata[0] = flags >>> 8;
  rdata[1] = flags & 0xff;
  rdata[2] = DNSKEY_PROTOCOL;
  rdata[3] = algorithm;
  rdata.set(publicKey, 4);
  return rdata;
}

/**
 * RFC 4034 Appendix B: the rdata summed as 16-bit big-endian words, carries folded back in once.
 * (Algorithm 1's different rule is not needed: vigil never handles RSA/MD5 keys.)
 */
export function keyTag(dnskey: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < dnskey.length; i++) sum += i & 1 ? dnskey[i]! : dnskey[i]! << 8;
  sum += (sum >>> 16) & 0xffff;
  return sum & 0xffff;
}

/** DS rdata for the key at `owner`: tag(2) algorithm(1) digest type(1) digest(owner ‖ DNSKEY rdata). */
export function dsRdata(owner: string, dnskey: Uint8Array, digestType: DigestTypeNumber = DigestType.SHA256): Uint8Array {
  const digest = createHash(HASH_NAME[digestType]).update(canonicalName(owner)).update(dnskey).digest();
  const tag = keyTag(dnskey);
  const rdata = new Uint8Array(4 + digest.length);
  rdata[0] = tag >>> 8;
  rdata[1] = tag & 0xff;
  rdata[2] = dnskey[3]!;
  rdata[3] = digestType;
  rdata.set(digest, 4);
  return rdata;
}

/**
 * The CDS set (RFC 7344 §3.1): DS rdata for the keys the parent should point at (the KSKs or CSKs),
 * published at the apex for the parent to pick up.
 */
export function cdsRecords(zone: string, ttl: number, dnskeys: Uint8Array[], digestType: DigestTypeNumber = DigestType.SHA256): RRset {
  return { name: zone, type: RRType.CDS, ttl, rdata: dnskeys.map((key) => ({ kind: "bytes", bytes: dsRdata(zone, key, digestType) })) };
}

/** The CDNSKEY set (RFC 7344 §3.2): the same keys as DNSKEY rdata, for parents that compute DS themselves. */
export function cdnskeyRecords(zone: string, ttl: number, dnskeys: Uint8Array[]): RRset {
  return { name: zone, type: RRType.CDNSKEY, ttl, rdata: dnskeys.map((bytes) => ({ kind: "bytes", bytes })) };
}

/** "example.com. IN DS 12345 13 2 4A5B…", digest in upper-case hex as BIND's dnssec-dsfromkey prints it. */
export function formatDs(owner: string, ds: Uint8Array): string {
  const tag = (ds[0]! << 8) | ds[1]!;
  const digest = Buffer.from(ds.subarray(4)).toString("hex").toUpperCase();
  return `${fqdn(owner)} IN DS ${tag} ${ds[2]} ${ds[3]} ${digest}`;
}

/** "example.com. IN DNSKEY 257 3 13 <base64>", the line a DNSKEY is published or handed over as. */
export function formatDnskey(owner: string, dnskey: Uint8Array): string {
  const flags = (dnskey[0]! << 8) | dnskey[1]!;
  const key = Buffer.from(dnskey.subarray(4)).toString("base64");
  return `${fqdn(owner)} IN DNSKEY ${flags} ${dnskey[2]} ${dnskey[3]} ${key}`;
}
