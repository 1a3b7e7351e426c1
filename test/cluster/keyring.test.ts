import { describe, expect, test } from "bun:test";
import { decodeKey, Keyring } from "../../src/cluster/keyring.ts";
import { newKey } from "./sim.ts";

const base64 = (key: Uint8Array) => Buffer.from(key).toString("base64");

describe("Keyring", () => {
  test("the primary comes first, then the other keys, without duplicates", () => {
    const [a, b, c] = [newKey(), newKey(), newKey()];
    const ring = new Keyring(a, [b, c, b, a]);
    expect(ring.primaryKey).toEqual(a);
    expect(ring.keys).toEqual([a, b, c]);
  });

  test("rotation: install, use, remove the old key", () => {
    const [old, fresh] = [newKey(), newKey()];
    const ring = new Keyring(old);
    ring.install(fresh);
    expect(ring.primaryKey).toEqual(old);
    ring.use(fresh);
    expect(ring.keys).toEqual([fresh, old]);
    ring.remove(old);
    expect(ring.keys).toEqual([fresh]);
  });

  test("a copy of an installed key's bytes selects it", () => {
    const [a, b] = [newKey(), newKey()];
    const ring = new Keyring(a, [b]);
    ring.use(b.slice());
    expect(ring.primaryKey).toEqual(b);
  });

  test("refuses to remove the primary, to use a key that is not installed, and keys of the wrong size", () => {
    const a = newKey();
    const ring = new Keyring(a);
    expect(() => ring.remove(a)).toThrow("cannot remove the primary key");
    expect(() => ring.use(newKey())).toThrow("not installed");
    expect(() => ring.install(new Uint8Array(16))).toThrow("expected 32 bytes");
    expect(() => new Keyring(new Uint8Array(31))).toThrow("expected 32 bytes");
  });

  test("removing a key that is not there does nothing", () => {
    const a = newKey();
    const ring = new Keyring(a);
    ring.remove(newKey());
    expect(ring.keys).toEqual([a]);
  });

  test("reads base64 keys as the config holds them", () => {
    const [a, b] = [newKey(), newKey()];
    const ring = Keyring.fromBase64(base64(a), [base64(b)]);
    expect(ring.keys).toEqual([a, b]);
    expect(() => decodeKey("not base64!")).toThrow("expected base64");
    expect(() => decodeKey(Buffer.from("short").toString("base64"))).toThrow("expected 32 bytes");
  });
});
