import { describe, expect, test } from "bun:test";
import { ENCRYPTION_OVERHEAD, open, seal } from "../../src/cluster/crypto.ts";
import { Keyring } from "../../src/cluster/keyring.ts";
import { newKey } from "./sim.ts";

const text = new TextEncoder().encode("alive n1 incarnation 3");

describe("seal / open", () => {
  test("round-trips with a version byte, a fresh nonce each time, and a fixed overhead", () => {
    const ring = new Keyring(newKey());
    const a = seal(ring, text, "packet");
    const b = seal(ring, text, "packet");
    expect(a.length).toBe(text.length + ENCRYPTION_OVERHEAD);
    expect(a[0]).toBe(1);
    expect(a.subarray(1, 13)).not.toEqual(b.subarray(1, 13));
    expect(open(ring, a, "packet")).toEqual({ ok: true, plaintext: text });
  });

  test("every installed key is tried, so a node mid-rotation reads both old and new", () => {
    const [old, fresh] = [newKey(), newKey()];
    const sender = new Keyring(fresh);
    const receiver = new Keyring(old, [fresh]);
    expect(open(receiver, seal(sender, text, "packet"), "packet").ok).toBe(true);
  });

  test("a packet no installed key opens is a wrong-key failure", () => {
    const sealed = seal(new Keyring(newKey()), text, "packet");
    expect(open(new Keyring(newKey()), sealed, "packet")).toEqual({ ok: false, reason: "wrong-key" });
  });

  test("tampering anywhere fails authentication", () => {
    const ring = new Keyring(newKey());
    const sealed = seal(ring, text, "packet");
    for (const at of [5, 20, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 1;
      expect(open(ring, bad, "packet").ok).toBe(false);
    }
  });

  test("a packet cannot be replayed as a stream frame", () => {
    const ring = new Keyring(newKey());
    expect(open(ring, seal(ring, text, "packet"), "stream")).toEqual({ ok: false, reason: "wrong-key" });
  });

  test("short input or an unknown version is malformed, never an exception", () => {
    const ring = new Keyring(newKey());
    expect(open(ring, new Uint8Array(10), "packet")).toEqual({ ok: false, reason: "malformed-envelope" });
    const sealed = seal(ring, text, "packet");
    sealed[0] = 2;
    expect(open(ring, sealed, "packet")).toEqual({ ok: false, reason: "malformed-envelope" });
  });
});
