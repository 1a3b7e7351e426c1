// Published examples to check against: RFC 6605 §6 (ECDSA P-256 and P-384) and RFC 8080 §6 (Ed25519).
// Each gives a private key, its DNSKEY, the DS the parent would hold, and one signed RRset.

import { RRType, type RRset } from "../../../src/dns/types.ts";

export function base64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** "20100909100439" (RRSIG presentation time, UTC) → unix seconds. */
export function rrsigTime(text: string): number {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(text.slice(at, at + (i === 0 ? 4 : 2))));
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) / 1000;
}

/** RFC 6605 §6.1: a P-256 KSK for example.net and an RRSIG over www.example.net A. */
export const rfc6605P256 = {
  zone: "example.net",
  privateKey: base64("GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ="),
  publicKey: base64("GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="),
  flags: 257,
  tag: 55648,
  dsSha256: "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
  signed: { name: "www.example.net", type: RRType.A, ttl: 3600, rdata: [{ kind: "bytes", bytes: Uint8Array.of(192, 0, 2, 1) }] } as RRset,
  rrsig: {
    labels: 3,
    expiration: rrsigTime("20100909100439"),
    inception: rrsigTime("20100812100439"),
    signature: base64("qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw=="),
  },
};

/** RFC 6605 §6.2: a P-384 DNSKEY (algorithm 14) with a SHA-384 DS, for the digest type 4 path. */
export const rfc6605P384 = {
  zone: "example.net",
  /** Flags 257, protocol 3, algorithm 14, then the key. */
  dnskey: Uint8Array.of(
    1, 1, 3, 14,
    ...base64("xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40"),
  ),
  tag: 10771,
  dsSha384: "72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6",
};

const mx: RRset = { name: "example.com", type: RRType.MX, ttl: 3600, rdata: [{ kind: "mx", preference: 10, exchange: "mail.example.com" }] };
const rfc8080Times = { inception: 1438207200, expiration: 1440021600 };

/** RFC 8080 §6.1 and §6.2: two Ed25519 KSKs for example.com, each signing the same MX set. */
export const rfc8080Ed25519 = [
  {
    zone: "example.com",
    privateKey: base64("ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI="),
    publicKey: base64("l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4="),
    flags: 257,
    tag: 3613,
    dsSha256: "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
    signed: mx,
    times: rfc8080Times,
    signature: base64("oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg=="),
  },
  {
    zone: "example.com",
    privateKey: base64("DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY="),
    publicKey: base64("zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs="),
    flags: 257,
    tag: 35217,
    dsSha256: "401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c",
    signed: mx,
    times: rfc8080Times,
    signature: base64("zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg=="),
  },
];
