// The gossip wire format (inside the encryption, see crypto.ts). Binary, big-endian:
//
//   packet    = version:u8 message | version:u8 COMPOUND count:u8 { length:u16 message }*count
//   message   = type:u8 body
//   stream    = version:u8 PUSH_PULL body  |  version:u8 message   (a ping or ack, for the fallback ping)
//
// Binary rather than JSON: an alive message is ~40 bytes instead of ~120, so about three times as
// many broadcasts ride on one 1400-byte packet, and application payloads travel as raw bytes
// instead of base64. Strings carry a one-byte length, blobs two or four. The decoder checks every
// length against what is left and returns a reason instead of throwing.

import { ByteReader, ByteWriter, WireError } from "./bytes.ts";
import type { MemberMeta, MemberState, Message, PushPull, PushPullMember, Role } from "./messages.ts";

export const PROTOCOL_VERSION = 1;

const TYPE = {
  ping: 1,
  "indirect-ping": 2,
  ack: 3,
  nack: 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  user: 8,
  compound: 9,
  "push-pull": 10,
} as const;

const ROLES: readonly Role[] = ["overwatch", "agent"];
const STATES: readonly MemberState[] = ["alive", "suspect", "dead", "left"];

/** Bytes a packet of several messages spends before the first one: version, type, count. */
export const COMPOUND_HEADER = 3;
/** Bytes each message costs inside a compound packet: its length. */
export const COMPOUND_PART_OVERHEAD = 2;
const MAX_COMPOUND_PARTS = 255;

export type DecodeFailure =
  | "empty"
  | "bad-version"
  | "unknown-type"
  | "truncated"
  | "bad-field"
  | "trailing-bytes"
  | "nested-compound"
  | "not-a-packet"
  | "not-a-stream";

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DecodeFailure };

/** What one stream frame holds: a full-state exchange or a single message. */
export type StreamFrame = { kind: "push-pull"; pushPull: PushPull } | { kind: "message"; message: Message };

/** One message as it sits inside a packet: type and body, no version. Broadcasts are queued in this form. */
export function encodeMessage(message: Message): Uint8Array {
  const w = new ByteWriter().u8(TYPE[message.type]);
  switch (message.type) {
    case "ping":
      w.u32(message.seq).str8(message.target, "ping target");
      break;
    case "indirect-ping":
      w.u32(message.seq).str8(message.target, "target").str8(message.address, "address").u8(message.nack ? 1 : 0);
      break;
    case "ack":
    case "nack":
      w.u32(message.seq);
      break;
    case "alive":
      w.u32(message.incarnation).str8(message.node, "node name").str8(message.address, "address");
      writeMeta(w, message.meta);
      break;
    case "suspect":
    case "dead":
      w.u32(message.incarnation).str8(message.node, "node name").str8(message.from, "node name");
      break;
    case "user":
      w.bytes(idBytes(message.id)).str8(message.origin, "node name");
      w.blob16(message.payload, "message payload");
      break;
  }
  return w.finish();
}

/** A packet of one or more encoded messages; several become one compound (piggybacking). */
export function packetOf(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) throw new Error("gossip packet: nothing to send");
  if (parts.length === 1) return new ByteWriter().u8(PROTOCOL_VERSION).bytes(parts[0]!).finish();
  if (parts.length > MAX_COMPOUND_PARTS) throw new Error(`gossip packet: at most ${MAX_COMPOUND_PARTS} messages`);
  const w = new ByteWriter().u8(PROTOCOL_VERSION).u8(TYPE.compound).u8(parts.length);
  for (const part of parts) w.blob16(part, "message");
  return w.finish();
}

export function decodePacket(packet: Uint8Array): Decoded<Message[]> {
  return guarded(() => {
    const r = new ByteReader(packet);
    if (r.remaining === 0) return fail("empty");
    if (r.u8() !== PROTOCOL_VERSION) return fail("bad-version");
    if (r.remaining === 0) return fail("truncated");
    const type = r.u8();
    if (type !== TYPE.compound) {
      const single = readBody(type, r);
      return single.ok ? done(r, [single.value]) : single;
    }
    const count = r.u8();
    const messages: Message[] = [];
    for (let i = 0; i < count; i++) {
      const part = new ByteReader(r.blob16());
      if (part.remaining === 0) return fail("truncated");
      const partType = part.u8();
      if (partType === TYPE.compound) return fail("nested-compound");
      const message = readBody(partType, part);
      if (!message.ok) return message;
      if (part.remaining !== 0) return fail("trailing-bytes");
      messages.push(message.value);
    }
    return done(r, messages);
  });
}

export function encodePushPull(pp: PushPull): Uint8Array {
  const w = new ByteWriter().u8(PROTOCOL_VERSION).u8(TYPE["push-pull"]).u8(pp.join ? 1 : 0);
  if (pp.members.length > 0xffff) throw new Error("gossip push-pull: more than 65535 members");
  w.u16(pp.members.length);
  for (const m of pp.members) {
    w.str8(m.name, "node name").str8(m.address, "address").u32(m.incarnation).u8(STATES.indexOf(m.state));
    writeMeta(w, m.meta);
  }
  return w.blob32(pp.state).finish();
}

/** A stream frame: push-pull, or one message (never a compound) framed as a packet is. */
export function encodeStreamMessage(message: Message): Uint8Array {
  return packetOf([encodeMessage(message)]);
}

export function decodeStreamFrame(frame: Uint8Array): Decoded<StreamFrame> {
  if (frame.length >= 2 && frame[0] === PROTOCOL_VERSION && frame[1] === TYPE["push-pull"]) {
    const pushPull = decodePushPull(frame);
    return pushPull.ok ? ok({ kind: "push-pull", pushPull: pushPull.value }) : pushPull;
  }
  if (frame.length >= 2 && frame[1] === TYPE.compound) return fail("not-a-stream");
  const packet = decodePacket(frame);
  return packet.ok ? ok({ kind: "message", message: packet.value[0]! }) : packet;
}

function decodePushPull(frame: Uint8Array): Decoded<PushPull> {
  return guarded(() => {
    const r = new ByteReader(frame);
    r.u8();
    r.u8();
    const join = flag(r.u8());
    const count = r.u16();
    const members: PushPullMember[] = [];
    for (let i = 0; i < count; i++) {
      const name = r.name();
      const address = r.name();
      const incarnation = r.u32();
      const state = STATES[r.u8()];
      if (!state) throw new WireError("bad-field");
      members.push({ name, address, incarnation, state, meta: readMeta(r) });
    }
    const state = r.blob32().slice();
    return done(r, { join, members, state });
  });
}

function readBody(type: number, r: ByteReader): Decoded<Message> {
  switch (type) {
    case TYPE.ping:
      return ok({ type: "ping", seq: r.u32(), target: r.name() });
    case TYPE["indirect-ping"]:
      return ok({ type: "indirect-ping", seq: r.u32(), target: r.name(), address: r.name(), nack: flag(r.u8()) });
    case TYPE.ack:
      return ok({ type: "ack", seq: r.u32() });
    case TYPE.nack:
      return ok({ type: "nack", seq: r.u32() });
    case TYPE.alive:
      return ok({ type: "alive", incarnation: r.u32(), node: r.name(), address: r.name(), meta: readMeta(r) });
    case TYPE.suspect:
      return ok({ type: "suspect", incarnation: r.u32(), node: r.name(), from: r.name() });
    case TYPE.dead:
      return ok({ type: "dead", incarnation: r.u32(), node: r.name(), from: r.name() });
    case TYPE.user:
      return ok({ type: "user", id: idText(r.bytes(8)), origin: r.name(), payload: r.blob16().slice() });
    case TYPE["push-pull"]:
      return fail("not-a-packet");
    default:
      return fail("unknown-type");
  }
}

function writeMeta(w: ByteWriter, meta: MemberMeta): void {
  w.u8(ROLES.indexOf(meta.role)).str8(meta.region, "region");
}

function readMeta(r: ByteReader): MemberMeta {
  const role = ROLES[r.u8()];
  if (!role) throw new WireError("bad-field");
  return { role, region: r.str8() };
}

function flag(byte: number): boolean {
  if (byte > 1) throw new WireError("bad-field");
  return byte === 1;
}

function idBytes(id: string): Uint8Array {
  if (!/^[0-9a-f]{16}$/.test(id)) throw new Error(`gossip message id: expected 16 hex digits, got ${JSON.stringify(id)}`);
  return new Uint8Array(Buffer.from(id, "hex"));
}

function idText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

function fail(reason: DecodeFailure): { ok: false; reason: DecodeFailure } {
  return { ok: false, reason };
}

function done<T>(r: ByteReader, value: T): Decoded<T> {
  return r.remaining === 0 ? ok(value) : fail("trailing-bytes");
}

/** Whatever the bytes are, the caller gets a result, never an exception. */
function guarded<T>(decode: () => Decoded<T>): Decoded<T> {
  try {
    return decode();
  } catch (err) {
    return fail(err instanceof WireError ? err.reason : "bad-field");
  }
}
