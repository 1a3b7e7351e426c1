import { describe, expect, test } from "bun:test";
import { algorithmFor, findAlgorithm, type SigningAlgorithm } from "../../../src/dns/dnssec/algorithms.ts";
import { Algorithm } from "../../../src/dns/dnssec/types.ts";
import { rfc6605P256, rfc8080Ed25519 } from "./vectors.ts";

const data = new TextEncoder().encode("rrsig prefix and canonical records");

/** WebCrypto's view of a DNSKEY public key: P-256 wants the SEC1 point, Ed25519 the key as is. */
async function webCryptoKey(algorithm: SigningAlgorithm, publicKey: Uint8Array): Promise<CryptoKey> {
  if (algorithm.number === Algorithm.ED25519) return crypto.subtle.importKey("raw", Uint8Array.from(publicKey), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.importKey("raw", Uint8Array.of(4, ...publicKey), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

const webCryptoParams = { [Algorithm.ECDSAP256SHA256]: { name: "ECDSA", hash: "SHA-256" }, [Algorithm.ED25519]: { name: "Ed25519" } };

describe.each([Algorithm.ECDSAP256SHA256, Algorithm.ED25519])("algorithm %d", (number) => {
  const algorithm = algorithmFor(number);

  test("generates keys of the DNSKEY field's size whose signatures verify", () => {
    const { privateKey, publicKey } = algorithm.generate();
    expect(privateKey.length).toBe(32);
    expect(publicKey.length).toBe(algorithm.publicKeyLength);
    expect(algorithm.publicKeyOf(privateKey)).toEqual(publicKey);
    const signature = algorithm.sign(data, privateKey);
    expect(signature.length).toBe(64);
    expect(algorithm.verify(data, signature, publicKey)).toBe(true);
  });

  test("rejects changed data, a changed signature, another key, and malformed input without throwing", () => {
    const { privateKey, publicKey } = algorithm.generate();
    const signature = algorithm.sign(data, privateKey);
    const changed = data.slice();
    changed[0]! ^= 1;
    const badSignature = signature.slice();
    badSignature[10]! ^= 1;
    expect(algorithm.verify(changed, signature, publicKey)).toBe(false);
    expect(algorithm.verify(data, badSignature, publicKey)).toBe(false);
    expect(algorithm.verify(data, signature, algorithm.generate().publicKey)).toBe(false);
    expect(algorithm.verify(data, signature.subarray(1), publicKey)).toBe(false);
    expect(algorithm.verify(data, signature, publicKey.subarray(1))).toBe(false);
    expect(algorithm.verify(data, signature, new Uint8Array(publicKey.length))).toBe(false);
  });

  test("WebCrypto verifies our signatures", async () => {
    const { privateKey, publicKey } = algorithm.generate();
    const key = await webCryptoKey(algorithm, publicKey);
    const ok = await crypto.subtle.verify(webCryptoParams[number], key, Uint8Array.from(algorithm.sign(data, privateKey)), data);
    expect(ok).toBe(true);
  });
});

describe("ECDSAP256SHA256", () => {
  const ecdsa = algorithmFor(Algorithm.ECDSAP256SHA256);

  test("derives the RFC 6605 §6.1 public key from its private key", () => {
    expect(ecdsa.publicKeyOf(rfc6605P256.privateKey)).toEqual(rfc6605P256.publicKey);
  });

  test("signs deterministically (RFC 6979), so nodes sharing a key give the same RRSIG", () => {
    const { privateKey } = ecdsa.generate();
    expect(ecdsa.sign(data, privateKey)).toEqual(ecdsa.sign(data, privateKey));
  });

  test("verifies WebCrypto's signatures, high-s ones included (other signers do not normalise s)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)).subarray(1);
    const signatures = await Promise.all(
      Array.from({ length: 16 }, () => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data)),
    );
    for (const signature of signatures) expect(ecdsa.verify(data, new Uint8Array(signature), publicKey)).toBe(true);
  });

  test("accepts (r, n − s) as ECDSA does", () => {
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const { privateKey, publicKey } = ecdsa.generate();
    const signature = ecdsa.sign(data, privateKey);
    const s = BigInt("0x" + Buffer.from(signature.subarray(32)).toString("hex"));
    const flipped = Uint8Array.of(...signature.subarray(0, 32), ...Buffer.from((n - s).toString(16).padStart(64, "0"), "hex"));
    expect(ecdsa.verify(data, flipped, publicKey)).toBe(true);
  });
});

describe("ED25519", () => {
  test("derives the RFC 8080 §6 public keys from their private keys", () => {
    for (const vector of rfc8080Ed25519) expect(algorithmFor(Algorithm.ED25519).publicKeyOf(vector.privateKey)).toEqual(vector.publicKey);
  });
});

describe("lookup by number", () => {
  test("knows 13 and 15 only", () => {
    expect(findAlgorithm(13)?.mnemonic).toBe("ECDSAP256SHA256");
    expect(findAlgorithm(15)?.mnemonic).toBe("ED25519");
    expect(findAlgorithm(8)).toBeUndefined();
    expect(() => algorithmFor(8)).toThrow("DNSSEC algorithm 8 is not supported");
  });
});
