// The signature algorithms vigil signs with, behind one interface: ECDSA P-256 with SHA-256 (RFC 6605)
// and Ed25519 (RFC 8080). Keys and signatures are in their DNSKEY/RRSIG wire forms.

import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { Algorithm, type AlgorithmNumber } from "./types.ts";

export interface SigningAlgorithm {
  readonly number: AlgorithmNumber;
  /** The RFC 8624 mnemonic, as zone files and BIND print it. */
  readonly mnemonic: string;
  /** Bytes of the DNSKEY public key field. */
  readonly publicKeyLength: number;
  readonly signatureLength: number;
  generate(): { privateKey: Uint8Array; publicKey: Uint8Array };
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  /** The RRSIG signature field over `data` (the whole RFC 4034 §3.1.8.1 input; hashing is done here). */
  sign(data: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /** False for a bad signature and for malformed keys or signatures alike. */
  verify(data: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

/** Uncompressed SEC1 points start with this byte; the DNSKEY field leaves it out (RFC 6605 §4). */
const SEC1_UNCOMPRESSED = 0x04;

const P256_KEY_LENGTH = 64;
const ED25519_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

const p256PublicKey = (privateKey: Uint8Array) => p256.getPublicKey(privateKey, false).subarray(1);

const ecdsaP256: SigningAlgorithm = {
  number: Algorithm.ECDSAP256SHA256,
  mnemonic: "ECDSAP256SHA256",
  publicKeyLength: P256_KEY_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
  generate() {
    const privateKey = p256.utils.randomSecretKey();
    return { privateKey, publicKey: p256PublicKey(privateKey) };
  },
  publicKeyOf: p256PublicKey,
  // prehash: SHA-256 of the data, as the algorithm's name says; "compact" is r‖s (RFC 6605 §4).
  // RFC 6979 nonces: the same RRset signed twice gives the same RRSIG on every node.
  sign: (data, privateKey) => p256.sign(data, privateKey, { prehash: true, format: "compact" }),
  verify(data, signature, publicKey) {
    if (publicKey.length !== P256_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
    const point = new Uint8Array(1 + publicKey.length);
    point[0] = SEC1_UNCOMPRESSED;
    point.set(publicKey, 1);
    try {
      // lowS off: other signers (BIND, OpenSSL) emit high-s signatures, which ECDSA accepts.
      return p256.verify(signature, data, point, { prehash: true, lowS: false, format: "compact" });
    } catch {
      return false;
    }
  },
};

const ed25519Algorithm: SigningAlgorithm = {
  number: Algorithm.ED25519,
  mnemonic: "ED25519",
  publicKeyLength: ED25519_KEY_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
  generate() {
    const privateKey = ed25519.utils.randomSecretKey();
    return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
  },
  publicKeyOf: (privateKey) => ed25519.getPublicKey(privateKey),
  sign: (data, privateKey) => ed25519.sign(data, privateKey),
  verify(data, signature, publicKey) {
    if (publicKey.length !== ED25519_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
    try {
      // RFC 8080 §4 defers to RFC 8032, which rejects non-canonical encodings that ZIP 215 would accept.
      return ed25519.verify(signature, data, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

const BY_NUMBER = new Map<number, SigningAlgorithm>([
  [ecdsaP256.number, ecdsaP256],
  [ed25519Algorithm.number, ed25519Algorithm],
]);

/** The algorithm with this DNSKEY/RRSIG number, or undefined when vigil does not implement it. */
export function findAlgorithm(number: number): SigningAlgorithm | undefined {
  return BY_NUMBER.get(number);
}

/** Like findAlgorithm, for numbers that must be supported (a key vigil made or loaded). */
export function algorithmFor(number: number): SigningAlgorithm {
  const found = BY_NUMBER.get(number);
  if (found === undefined) throw new Error(`DNSSEC algorithm ${number} is not supported (vigil signs with 13 and 15)`);
  return found;
}
