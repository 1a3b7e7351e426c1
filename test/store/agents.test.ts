// The pinned agents' repository (migration 5), under Bun with bun:sqlite. The repository uses only
// the driver seam, as the others do, so better-sqlite3 runs it the same way.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBunDatabase } from "../../src/store/driver-bun.ts";
import { MIGRATIONS, migrate, schemaVersion } from "../../src/store/migrations.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";

let tmp: string;
let store: Store;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vigil-agents-"));
  store = openStore(tmp);
});
afterEach(() => {
  store.close();
  rmSync(tmp, { recursive: true, force: true });
});

const A = "3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b";
const B = "00000000-0000-4000-8000-000000000001";
const key = (fill: number) => new Uint8Array(32).fill(fill);

describe("store.agents", () => {
  test("pin then get: the key as bytes, first_seen = last_seen, no re-key allowed", () => {
    expect(store.agents.get(A)).toBeUndefined();
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(1), at: 1000 });
    expect(store.agents.get(A)).toEqual({ agentId: A, service: "myapp", publicKey: key(1), firstSeen: 1000, lastSeen: 1000 });
    expect(store.agents.get(A)!.publicKey).toBeInstanceOf(Uint8Array);
  });

  test("touch moves last_seen forward, never back, and says whether the agent is pinned", () => {
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(1), at: 1000 });
    expect(store.agents.touch(A, 5000)).toBe(true);
    expect(store.agents.touch(A, 3000)).toBe(true);
    expect(store.agents.get(A)).toMatchObject({ firstSeen: 1000, lastSeen: 5000 });
    expect(store.agents.touch(B, 5000)).toBe(false);
    expect(store.agents.get(B)).toBeUndefined();
  });

  test("allowRekey records until when; pinning a new key then keeps first_seen and uses the permission up", () => {
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(1), at: 1000 });
    expect(store.agents.allowRekey(A, 90_000)).toBe(true);
    expect(store.agents.get(A)).toMatchObject({ rekeyAllowedUntil: 90_000 });
    expect(store.agents.allowRekey(B, 90_000)).toBe(false);
    store.agents.pin({ agentId: A, service: "otherapp", publicKey: key(2), at: 7000 });
    // The service stays the one it first registered for.
    expect(store.agents.get(A)).toEqual({ agentId: A, service: "myapp", publicKey: key(2), firstSeen: 1000, lastSeen: 7000 });
  });

  test("list gives every pin by agent id; remove forgets one", () => {
    store.agents.pin({ agentId: B, service: "web", publicKey: key(2), at: 2000 });
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(1), at: 1000 });
    expect(store.agents.list().map((a) => a.agentId)).toEqual([B, A].sort());
    expect(store.agents.remove(A)).toBe(true);
    expect(store.agents.remove(A)).toBe(false);
    expect(store.agents.list().map((a) => a.agentId)).toEqual([B]);
  });

  test("pins outlive a restart", () => {
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(9), at: 1000 });
    store.agents.allowRekey(A, 5000);
    store.close();
    store = openStore(tmp);
    expect(store.agents.get(A)).toEqual({ agentId: A, service: "myapp", publicKey: key(9), firstSeen: 1000, lastSeen: 1000, rekeyAllowedUntil: 5000 });
  });

  test("a database from before agents (schema 4) gains the table when opened, its data kept", () => {
    const dir = join(tmp, "old");
    store.close();
    store = openStore(dir); // creates dir
    store.close();
    // Rebuild the file at schema 4, as the previous version left it.
    rmSync(join(dir, "vigil.db"));
    rmSync(join(dir, "vigil.db-wal"), { force: true });
    rmSync(join(dir, "vigil.db-shm"), { force: true });
    const db = openBunDatabase(join(dir, "vigil.db"));
    migrate(db, "old", MIGRATIONS.slice(0, 4));
    db.exec("INSERT INTO meta (key, value) VALUES ('node_id', 'n1')");
    expect(schemaVersion(db)).toBe(4);
    db.close();
    store = openStore(dir);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(5);
    expect(store.meta.get("node_id")).toBe("n1");
    store.agents.pin({ agentId: A, service: "myapp", publicKey: key(1), at: 1 });
    expect(store.agents.list()).toHaveLength(1);
  });
});
