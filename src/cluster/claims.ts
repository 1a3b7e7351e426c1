// The claim an agent gossips with every heartbeat, once per service it has backends for: who it is
// (agent id, public key), which service and the service's token (checked by each overwatch against
// agent_tokens; gossip is encrypted, so the token is not in the clear on the wire), and what it says
// about each of its backends of that service. Signed with the agent's Ed25519 key, so an overwatch
// that has pinned the key (trust on first use, health/agent-registry.ts) knows the claim is the
// agent's own, whoever relayed it.
//
// A claim too large for one gossip payload goes in parts: each part is a complete, independently
// signed claim for some of the backends, with the same seq and its `part` (0-based) of `parts`.
//
// Wire format (big-endian; str8 = one-byte length and UTF-8):
//
//   claim     = magic:u8 (0xC1) version:u8 (1) public_key:32 signature:64 body
//   body      = agent_id:16 (the UUID's bytes) service:str8 token:str8 region:str8
//               seq:u64 time:u64 part:u8 parts:u8 count:u16 backend*count
//   backend   = family:u8 (4|6) address:4|16 port:u16 weight:u32 state:u8 region:str8 detail:str8
//   state     = status (bits 0-1: 0 healthy, 1 unhealthy, 2 draining) | bleeding (bit 2)
//   signature = Ed25519 over "vigil/agent-claim" ‖ magic ‖ version ‖ public_key ‖ body
//
// The magic byte 0xC1 never occurs in UTF-8, so a claim cannot be taken for the JSON of other
// gossip messages (verdict-messages.ts) or the other way round. The signature is checked before the
// body is parsed, as the gossip envelope is opened before its messages are: altering any byte after
// the version makes the claim fail as a bad signature. Addresses travel as bytes, so the decoded
// text is canonical (RFC 5952 for IPv6) and one backend has one key however the agent wrote it.
//
// decodeClaim never throws. It checks the signature against the key inside the claim: whether that
// key is the agent's pinned one is the registry's business.

import { createPublicKey, verify } from "node:crypto";
import { formatIp, parseIp } from "../lib/cidr.ts";
import { ByteReader, ByteWriter, WireError } from "./bytes.ts";

export const CLAIM_MAGIC = 0xc1;
export const CLAIM_VERSION = 1;
/** What encodeClaim keeps each payload under by default: room for a node name of up to ~150 bytes at packet_bytes 1400. */
export const DEFAULT_CLAIM_BYTES = 1200;
/** What decodeClaim accepts by default: the most a gossip application message can carry (blob16). */
export const MAX_CLAIM_BYTES = 65_535;
/** A backend's detail is cut to this many UTF-8 bytes ("…" marks the cut). */
export const DETAIL_MAX_BYTES = 64;
export const MAX_WEIGHT = 1_000_000;
export const MAX_PARTS = 255;

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const BODY_START = 2 + PUBLIC_KEY_BYTES + SIGNATURE_BYTES;
const utf8 = new TextEncoder();
const SIGNING_CONTEXT = utf8.encode("vigil/agent-claim");
const STATUSES = ["healthy", "unhealthy", "draining"] as const;
const BLEEDING_BIT = 0b100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ClaimStatus = (typeof STATUSES)[number];

export interface ClaimBackend {
  /** An IPv4 or IPv6 address; decoded in canonical form. */
  address: string;
  port: number;
  /** 0 to 1 000 000, as a service backend's weight. */
  weight: number;
  status: ClaimStatus;
  /** A few words on why (the last check's result); cut to DETAIL_MAX_BYTES. */
  detail: string;
  /** The predictive signal: resources near their limits, the backend may fail soon. */
  bleeding?: boolean;
  /** The backend's own region, when it differs from the claim's. */
  region?: string;
}

/** What an agent says in one heartbeat for one service: the input of encodeClaim. */
export interface ClaimContent {
  /** The agent's UUID (lower case). */
  agentId: string;
  service: string;
  /** identity.service_token: the overwatch compares it with agent_tokens[service]. */
  token: string;
  /** The agent's region; "" for none. */
  region: string;
  /** Rises with every heartbeat and across restarts: see nextClaimSeq. */
  seq: number;
  /** The agent's clock when it made the claim (ms since epoch); informational, receivers time by their own clock. */
  time: number;
  backends: ClaimBackend[];
}

/** A decoded, signature-checked claim (one part). */
export interface Claim extends ClaimContent {
  version: number;
  /** The raw 32-byte Ed25519 key that signed it. */
  publicKey: Uint8Array;
  /** 0-based index of this part. */
  part: number;
  /** How many parts this heartbeat's claim for the service has (at least 1). */
  parts: number;
  backends: (ClaimBackend & { bleeding: boolean })[];
}

/** What signs claims: the agent's identity (agent/identity.ts) is one. */
export interface ClaimSigner {
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Uint8Array;
}

export type ClaimDecodeFailure = "not-a-claim" | "unknown-version" | "oversized" | "malformed" | "bad-signature";

export type DecodedClaim = { ok: true; claim: Claim } | { ok: false; reason: ClaimDecodeFailure; detail: string };

/**
 * The next heartbeat's seq: above the last one, and at least the clock (ms), so an agent that
 * restarts (and forgets its last seq) still sends higher numbers than before, as long as its clock
 * did not go back by more than it was down for.
 */
export function nextClaimSeq(previous: number, now: number): number {
  return Math.max(previous + 1, Math.floor(now));
}

/** Whether payload is meant to be a claim (its first byte), so a receiver can route it to decodeClaim. */
export function isClaimPayload(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === CLAIM_MAGIC;
}

/**
 * The claim as one or more signed payloads of at most maxBytes each (several when the backends do
 * not fit in one). Throws an Error for content that cannot be encoded at all: an agent id that is
 * not a UUID, a backend address that is not an IP address, a port or weight out of range, strings
 * over 255 bytes, one backend that does not fit in maxBytes beside the claim's header, or more than
 * MAX_PARTS parts. Those are configuration errors on the agent, best caught when it starts.
 */
export function encodeClaim(content: ClaimContent, signer: ClaimSigner, options: { maxBytes?: number } = {}): Uint8Array[] {
  const maxBytes = options.maxBytes ?? DEFAULT_CLAIM_BYTES;
  if (signer.publicKey.length !== PUBLIC_KEY_BYTES) throw new Error(`claim: public key must be ${PUBLIC_KEY_BYTES} bytes, got ${signer.publicKey.length}`);
  if (!UUID.test(content.agentId)) throw new Error(`claim agent id: expected a lower-case UUID, got ${JSON.stringify(content.agentId)}`);
  if (content.service === "") throw new Error("claim service: must not be empty");
  if (content.token === "") throw new Error("claim token: must not be empty");
  for (const [field, value] of [["seq", content.seq], ["time", content.time]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`claim ${field}: expected a whole number from 0 to 2^53, got ${value}`);
  }
  const header = (part: number, parts: number, count: number) =>
    new ByteWriter()
      .bytes(uuidBytes(content.agentId))
      .str8(content.service, "claim service")
      .str8(content.token, "claim token")
      .str8(content.region, "claim region")
      .u32(Math.floor(content.seq / 2 ** 32)).u32(content.seq >>> 0)
      .u32(Math.floor(content.time / 2 ** 32)).u32(content.time >>> 0)
      .u8(part).u8(parts).u16(count)
      .finish();
  const headerBytes = BODY_START + header(0, 1, 0).length;
  const room = maxBytes - headerBytes;
  const groups: Uint8Array[][] = [[]];
  let used = 0;
  const seen = new Set<string>();
  for (const backend of content.backends) {
    const encoded = encodeBackend(backend); // validates the address first
    const key = `${formatIp(parseIp(backend.address)!)}|${backend.port}`;
    if (seen.has(key)) throw new Error(`claim backend ${key}: listed twice`);
    seen.add(key);
    if (encoded.length > room) {
      throw new Error(`claim backend ${key}: ${encoded.length} bytes do not fit in ${maxBytes} beside the claim's ${headerBytes}-byte header`);
    }
    if (used + encoded.length > room || groups.at(-1)!.length === 0xffff) {
      groups.push([]);
      used = 0;
    }
    groups.at(-1)!.push(encoded);
    used += encoded.length;
  }
  if (groups.length > MAX_PARTS) throw new Error(`claim for service ${content.service}: ${groups.length} parts, at most ${MAX_PARTS}`);
  return groups.map((backends, part) => {
    const body = new ByteWriter().bytes(header(part, groups.length, backends.length));
    for (const b of backends) body.bytes(b);
    return seal(body.finish(), signer);
  });
}

/** A claim from a gossip payload, its signature checked against the key it carries; never throws. */
export function decodeClaim(payload: Uint8Array, options: { maxBytes?: number } = {}): DecodedClaim {
  const fail = (reason: ClaimDecodeFailure, detail: string): DecodedClaim => ({ ok: false, reason, detail });
  if (payload.length === 0 || payload[0] !== CLAIM_MAGIC) return fail("not-a-claim", "first byte is not the claim marker");
  if (payload.length < 2) return fail("malformed", "truncated");
  if (payload[1] !== CLAIM_VERSION) return fail("unknown-version", `version ${payload[1]}, this node reads ${CLAIM_VERSION}`);
  const maxBytes = options.maxBytes ?? MAX_CLAIM_BYTES;
  if (payload.length > maxBytes) return fail("oversized", `${payload.length} bytes, at most ${maxBytes}`);
  if (payload.length < BODY_START) return fail("malformed", "truncated");
  const publicKey = payload.slice(2, 2 + PUBLIC_KEY_BYTES);
  const signature = payload.subarray(2 + PUBLIC_KEY_BYTES, BODY_START);
  const body = payload.subarray(BODY_START);
  if (!verifies(publicKey, signature, signingInput(payload.subarray(0, 2), publicKey, body))) {
    return fail("bad-signature", "the signature does not verify under the claim's public key");
  }
  try {
    return { ok: true, claim: parseBody(new ByteReader(body), publicKey) };
  } catch (err) {
    return fail("malformed", err instanceof WireError ? err.reason : err instanceof Error ? err.message : String(err));
  }
}

function parseBody(r: ByteReader, publicKey: Uint8Array): Claim {
  const agentId = uuidText(r.bytes(16));
  const service = r.name();
  const token = r.name();
  const region = r.str8();
  const seq = u64(r, "seq");
  const time = u64(r, "time");
  const part = r.u8();
  const parts = r.u8();
  if (parts === 0 || part >= parts) throw new Error(`part ${part} of ${parts}`);
  const count = r.u16();
  const backends: Claim["backends"] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const family = r.u8();
    if (family !== 4 && family !== 6) throw new Error(`backend ${i}: address family ${family}`);
    const address = formatIp(r.bytes(family === 4 ? 4 : 16));
    const port = r.u16();
    if (port === 0) throw new Error(`backend ${address}: port 0`);
    const weight = r.u32();
    if (weight > MAX_WEIGHT) throw new Error(`backend ${address}|${port}: weight ${weight}`);
    const state = r.u8();
    const status = STATUSES[state & 0b11];
    if (status === undefined || (state & ~(0b11 | BLEEDING_BIT)) !== 0) throw new Error(`backend ${address}|${port}: state ${state}`);
    const backendRegion = r.str8();
    const detail = r.str8();
    if (utf8.encode(detail).length > DETAIL_MAX_BYTES) throw new Error(`backend ${address}|${port}: detail over ${DETAIL_MAX_BYTES} bytes`);
    const key = `${address}|${port}`;
    if (seen.has(key)) throw new Error(`backend ${key} listed twice`);
    seen.add(key);
    const backend: Claim["backends"][number] = { address, port, weight, status, detail, bleeding: (state & BLEEDING_BIT) !== 0 };
    if (backendRegion !== "") backend.region = backendRegion;
    backends.push(backend);
  }
  if (r.remaining !== 0) throw new Error(`${r.remaining} trailing bytes`);
  return { version: CLAIM_VERSION, agentId, service, token, region, publicKey, seq, time, part, parts, backends };
}

function encodeBackend(b: ClaimBackend): Uint8Array {
  const address = parseIp(b.address);
  if (!address) throw new Error(`claim backend address: expected an IPv4 or IPv6 address, got ${JSON.stringify(b.address)}`);
  if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65_535) throw new Error(`claim backend ${b.address} port: expected 1 to 65535, got ${b.port}`);
  if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) {
    throw new Error(`claim backend ${b.address}|${b.port} weight: expected 0 to ${MAX_WEIGHT}, got ${b.weight}`);
  }
  const status = STATUSES.indexOf(b.status);
  if (status < 0) throw new Error(`claim backend ${b.address}|${b.port} status: expected healthy, unhealthy or draining, got ${JSON.stringify(b.status)}`);
  return new ByteWriter()
    .u8(address.length === 4 ? 4 : 6)
    .bytes(address)
    .u16(b.port)
    .u32(b.weight)
    .u8(status | (b.bleeding ? BLEEDING_BIT : 0))
    .str8(b.region ?? "", "claim backend region")
    .str8(shorten(b.detail, DETAIL_MAX_BYTES), "claim backend detail")
    .finish();
}

function seal(body: Uint8Array, signer: ClaimSigner): Uint8Array {
  const head = Uint8Array.of(CLAIM_MAGIC, CLAIM_VERSION);
  const signature = signer.sign(signingInput(head, signer.publicKey, body));
  if (signature.length !== SIGNATURE_BYTES) throw new Error(`claim: signature must be ${SIGNATURE_BYTES} bytes, got ${signature.length}`);
  const out = new Uint8Array(BODY_START + body.length);
  out.set(head, 0);
  out.set(signer.publicKey, 2);
  out.set(signature, 2 + PUBLIC_KEY_BYTES);
  out.set(body, BODY_START);
  return out;
}

function signingInput(head: Uint8Array, publicKey: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNING_CONTEXT.length + head.length + publicKey.length + body.length);
  let at = 0;
  for (const piece of [SIGNING_CONTEXT, head, publicKey, body]) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function verifies(publicKey: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
    return verify(null, data, key, signature);
  } catch {
    return false; // not a point on the curve, or the like
  }
}

function u64(r: ByteReader, field: string): number {
  const high = r.u32();
  const low = r.u32();
  if (high > 0x1fffff) throw new Error(`${field} beyond 2^53`);
  return high * 2 ** 32 + low;
}

function uuidBytes(uuid: string): Uint8Array {
  return new Uint8Array(Buffer.from(uuid.replaceAll("-", ""), "hex"));
}

function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** text cut to at most maxBytes of UTF-8, at a character boundary, ending in "…" when cut. */
function shorten(text: string, maxBytes: number): string {
  if (utf8.encode(text).length <= maxBytes) return text;
  const budget = maxBytes - 3; // "…" is three bytes
  let out = "";
  let used = 0;
  for (const char of text) {
    const size = utf8.encode(char).length;
    if (used + size > budget) break;
    out += char;
    used += size;
  }
  return `${out}…`;
}
