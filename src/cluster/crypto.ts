// AES-256-GCM around every packet and stream frame:
//   version (1 byte) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
// The version byte and the kind of envelope (packet or stream) are authenticated data, so a packet
// cannot be replayed as a stream frame or the other way round, and the version cannot be altered.

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "./keyring.ts";

const ENCRYPTION_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const ENCRYPTION_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export type Envelope = "packet" | "stream";

/** Why a sealed buffer was not opened. */
export type OpenFailure = "malformed-envelope" | "wrong-key";

export type Opened = { ok: true; plaintext: Uint8Array } | { ok: false; reason: OpenFailure };

export function seal(keyring: Keyring, plaintext: Uint8Array, envelope: Envelope): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keyring.primaryKey, nonce);
  cipher.setAAD(aad(envelope));
  const body = cipher.update(plaintext);
  cipher.final();
  const out = new Uint8Array(ENCRYPTION_OVERHEAD + plaintext.length);
  out[0] = ENCRYPTION_VERSION;
  out.set(nonce, 1);
  out.set(body, 1 + NONCE_BYTES);
  out.set(cipher.getAuthTag(), 1 + NONCE_BYTES + body.length);
  return out;
}

/** Tries every installed key; never throws. */
export function open(keyring: Keyring, sealed: Uint8Array, envelope: Envelope): Opened {
  if (sealed.length < ENCRYPTION_OVERHEAD || sealed[0] !== ENCRYPTION_VERSION) return { ok: false, reason: "malformed-envelope" };
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  for (const key of keyring.keys) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, nonce);
      decipher.setAAD(aad(envelope));
      decipher.setAuthTag(tag);
      const head = decipher.update(body);
      decipher.final();
      return { ok: true, plaintext: new Uint8Array(head) };
    } catch {
      // Authentication failed under this key: try the next one.
    }
  }
  return { ok: false, reason: "wrong-key" };
}

function aad(envelope: Envelope): Uint8Array {
  return Uint8Array.of(ENCRYPTION_VERSION, envelope === "packet" ? 0x70 : 0x73);
}
