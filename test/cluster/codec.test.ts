import { describe, expect, test } from "bun:test";
import {
  decodePacket, decodeStreamFrame, encodeMessage, encodePushPull, encodeStreamMessage, packetOf, PROTOCOL_VERSION,
} from "../../src/cluster/codec.ts";
import type { Message, PushPull } from "../../src/cluster/messages.ts";
import { seededRandom } from "../../src/cluster/random.ts";

const meta = { role: "agent", region: "eu-west" } as const;

const messages: Message[] = [
  { type: "ping", seq: 7, target: "n2" },
  { type: "indirect-ping", seq: 0xffffffff, target: "n3", address: "[2001:db8::3]:7946", nack: true },
  { type: "ack", seq: 1 },
  { type: "nack", seq: 2 },
  { type: "alive", incarnation: 3, node: "überwatch-1", address: "10.0.0.1:7946", meta },
  { type: "alive", incarnation: 0, node: "n1", address: "n1:7946", meta: { role: "overwatch", region: "" } },
  { type: "suspect", incarnation: 4, node: "n3", from: "n1" },
  { type: "dead", incarnation: 5, node: "n3", from: "n3" },
  { type: "user", id: "0123456789abcdef", origin: "n1", payload: new TextEncoder().encode('{"claim":"up"}') },
  { type: "user", id: "ffffffffffffffff", origin: "n1", payload: new Uint8Array() },
];

const pushPull: PushPull = {
  join: true,
  members: [
    { name: "n1", address: "n1:7946", incarnation: 2, state: "alive", meta },
    { name: "n2", address: "n2:7946", incarnation: 9, state: "left", meta: { role: "overwatch", region: "" } },
  ],
  state: Uint8Array.of(1, 2, 3),
};

describe("codec", () => {
  test.each(messages.map((m) => [m.type, m] as const))("%s round-trips alone", (_type, message) => {
    expect(decodePacket(packetOf([encodeMessage(message)]))).toEqual({ ok: true, value: [message] });
  });

  test("several messages round-trip as one compound packet: 3 header bytes and 2 per message", () => {
    const parts = messages.map(encodeMessage);
    const packet = packetOf(parts);
    expect(packet.length).toBe(3 + parts.reduce((sum, p) => sum + 2 + p.length, 0));
    expect(decodePacket(packet)).toEqual({ ok: true, value: messages });
  });

  test("an alive message is small, so many ride on one packet", () => {
    expect(encodeMessage(messages[4]!).length).toBeLessThan(45);
  });

  test("push-pull and single messages round-trip as stream frames", () => {
    expect(decodeStreamFrame(encodePushPull(pushPull))).toEqual({ ok: true, value: { kind: "push-pull", pushPull } });
    expect(decodeStreamFrame(encodeStreamMessage(messages[0]!))).toEqual({ ok: true, value: { kind: "message", message: messages[0]! } });
  });

  const v = PROTOCOL_VERSION;
  const ping = encodeMessage(messages[0]!);
  test.each([
    ["empty", new Uint8Array(), "empty"],
    ["a future version", Uint8Array.of(9, ...ping), "bad-version"],
    ["only a version", Uint8Array.of(v), "truncated"],
    ["an unknown type", Uint8Array.of(v, 99, 0, 0), "unknown-type"],
    ["a cut-off ping", Uint8Array.of(v, ...ping.subarray(0, 4)), "truncated"],
    ["bytes after the message", Uint8Array.of(v, ...ping, 0), "trailing-bytes"],
    ["an empty node name", Uint8Array.of(v, 1, 0, 0, 0, 1, 0), "bad-field"],
    ["a name that is not UTF-8", Uint8Array.of(v, 1, 0, 0, 0, 1, 2, 0xc3, 0x28), "bad-field"],
    ["an unknown role", Uint8Array.of(v, 6, 0, 0, 0, 1, 1, 0x61, 1, 0x62, 7, 0), "bad-field"],
    ["a nack flag that is not 0 or 1", Uint8Array.of(v, 2, 0, 0, 0, 1, 1, 0x61, 1, 0x62, 2), "bad-field"],
    ["a compound claiming more parts than it has", Uint8Array.of(v, 9, 3, 0, ping.length, ...ping), "truncated"],
    ["a part longer than the packet", Uint8Array.of(v, 9, 1, 0xff, 0xff, ...ping), "truncated"],
    ["a compound inside a compound", Uint8Array.of(v, 9, 1, 0, 3, 9, 0, 0), "nested-compound"],
    ["an empty part", Uint8Array.of(v, 9, 1, 0, 0), "truncated"],
    ["a push-pull sent as a packet", encodePushPull(pushPull), "not-a-packet"],
  ] as const)("drops %s", (_what, bytes, reason) => {
    expect(decodePacket(bytes)).toEqual({ ok: false, reason });
  });

  test("stream frames: compound messages and cut-off push-pulls are refused", () => {
    expect(decodeStreamFrame(packetOf([ping, ping]))).toEqual({ ok: false, reason: "not-a-stream" });
    const frame = encodePushPull(pushPull);
    expect(decodeStreamFrame(frame.subarray(0, frame.length - 1))).toEqual({ ok: false, reason: "truncated" });
    const badState = frame.slice();
    badState[3 + 2 + 3 + 8 + 4] = 9; // the first member's state byte
    expect(decodeStreamFrame(badState)).toEqual({ ok: false, reason: "bad-field" });
  });

  test("never throws, whatever the bytes: random junk, every truncation and every bit flip of valid packets", () => {
    const random = seededRandom(42);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 2_000; i++) inputs.push(Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    const valid = [packetOf(messages.map(encodeMessage)), encodePushPull(pushPull)];
    for (const packet of valid) {
      for (let cut = 0; cut < packet.length; cut++) inputs.push(packet.subarray(0, cut));
      for (let bit = 0; bit < packet.length * 8; bit++) {
        const flipped = packet.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        inputs.push(flipped);
      }
    }
    for (const input of inputs) {
      expect(() => decodePacket(input)).not.toThrow();
      expect(() => decodeStreamFrame(input)).not.toThrow();
    }
  });

  test("encoding refuses what the format cannot carry", () => {
    expect(() => encodeMessage({ type: "ping", seq: 1, target: "x".repeat(256) })).toThrow("at most 255 bytes");
    expect(() => encodeMessage({ type: "user", id: "xyz", origin: "n1", payload: new Uint8Array() })).toThrow("16 hex digits");
    expect(() => encodeMessage({ type: "user", id: "0123456789abcdef", origin: "n1", payload: new Uint8Array(70_000) })).toThrow("at most 65535");
    expect(() => packetOf([])).toThrow("nothing to send");
  });
});
