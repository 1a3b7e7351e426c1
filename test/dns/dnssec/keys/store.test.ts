import { afterEach, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import type { StoredKeySet } from "../../../../src/store/dnssec-keys.ts";
import { TempDirs } from "./helpers.ts";

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

function keySet(revision: number, tags: number[]): StoredKeySet {
  return {
    zone: "example.test",
    revision,
    keys: tags.map((tag, i) => ({
      zone: "example.test",
      role: "zsk",
      algorithm: 13,
      tag,
      publicKey: new Uint8Array(64).fill(tag & 0xff),
      privateKey: new Uint8Array(32).fill(i + 1),
      state: "active",
      createdAt: 1000 + i,
      stateSince: 2000 + i,
      nextTransitionAt: i === 0 ? undefined : 3000,
    })),
  };
}

describe("dnssec key store", () => {
  test("a zone's set comes back as written, private keys included, in the 0600 database, after a reopen", () => {
    const dataDir = dirs.dir();
    const first = dirs.store(dataDir);
    expect(first.dnssecKeys.get("example.test")).toBeUndefined();
    expect(first.dnssecKeys.replace(keySet(1, [11, 22]), undefined)).toBe(true);
    first.close();

    const again = dirs.store(dataDir);
    expect(again.dnssecKeys.get("example.test")).toEqual(keySet(1, [11, 22]));
    expect(again.dnssecKeys.revisions()).toEqual(new Map([["example.test", 1]]));
    expect(statSync(again.file).mode & 0o777).toBe(0o600);
  });

  test("a write over a revision that changed meanwhile is refused and changes nothing", () => {
    const store = dirs.store();
    store.dnssecKeys.replace(keySet(1, [11]), undefined);
    expect(store.dnssecKeys.replace(keySet(2, [11, 22]), 1)).toBe(true);
    expect(store.dnssecKeys.replace(keySet(2, [33]), 1)).toBe(false);
    expect(store.dnssecKeys.replace(keySet(1, [44]), undefined)).toBe(false);
    expect(store.dnssecKeys.get("example.test")!.keys.map((k) => k.tag)).toEqual([11, 22]);
  });

  test("the schema refuses roles and states it does not know", () => {
    const store = dirs.store();
    const bad = keySet(1, [11]);
    bad.keys[0]!.role = "master";
    expect(() => store.dnssecKeys.replace(bad, undefined)).toThrow();
    expect(store.dnssecKeys.get("example.test")).toBeUndefined();
  });
});
