// The API-made balancer servers' repository (migration 6), written once and run by both runtimes:
// lb-servers.test.ts (Bun, bun:sqlite) and node/store-test.ts (Node, better-sqlite3).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lbServerToPlain, parseLbServer } from "../../src/config/lb-plain.ts";
import { DiskFullError } from "../../src/store/disk-full.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import type { TestRunner } from "./store-spec.ts";

/** Opens a store in a fresh temp dir; `reopen` closes it and opens the same files again, as a restart does. */
function withStore(body: (store: Store, reopen: () => Store) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "vigil-lb-store-"));
  let store = openStore(dir);
  try {
    body(store, () => {
      store.close();
      store = openStore(dir);
      return store;
    });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const WEB = { name: "web", bind: "127.0.0.1:8080", static: ["127.0.0.1:8001 weight=3"] };

export function lbServersSpec({ describe, test }: TestRunner): void {
  describe("store.lbServers", () => {
    test("add, get, list oldest first, remove", () => {
      withStore((store) => {
        const servers = store.lbServers;
        assert.equal(servers.get("web"), undefined);
        assert.equal(servers.add({ name: "web", config: WEB, createdAt: 2000 }), true);
        assert.equal(servers.add({ name: "api", config: { ...WEB, name: "api" }, createdAt: 1000 }), true);
        assert.deepEqual(servers.get("web"), { name: "web", config: WEB, createdAt: 2000 });
        assert.deepEqual(servers.list().map((s) => s.name), ["api", "web"]);
        assert.equal(servers.remove("api"), true);
        assert.equal(servers.remove("api"), false);
        assert.deepEqual(servers.list().map((s) => s.name), ["web"]);
      });
    });

    test("a name already stored is refused and the first one is kept", () => {
      withStore((store) => {
        store.lbServers.add({ name: "web", config: WEB, createdAt: 1000 });
        assert.equal(store.lbServers.add({ name: "web", config: { other: true }, createdAt: 3000 }), false);
        assert.deepEqual(store.lbServers.get("web"), { name: "web", config: WEB, createdAt: 1000 });
      });
    });

    test("survive a restart, and what is stored loads as the same server config", () => {
      withStore((store, reopen) => {
        const config = parseLbServer({
          ...WEB,
          protocol: "udp",
          udp: { session_timeout: "45s", max_replies: 1 },
          access: { default: "deny", rules: ["allow 127.0.0.0/8"] },
          healthcheck: { interval: "3s" },
        });
        store.lbServers.add({ name: "web", config: lbServerToPlain(config), createdAt: 1000 });
        const stored = reopen().lbServers.get("web");
        assert.ok(stored);
        assert.deepEqual(parseLbServer(stored.config), config);
      });
    });

    test("the table refuses a config that is not JSON", () => {
      withStore((store) => {
        assert.throws(() => store.db.prepare("INSERT INTO lb_servers (name, config, created_at) VALUES ('x', '{oops', 1)").run(), /CHECK constraint failed/);
        assert.deepEqual(store.lbServers.list(), []);
      });
    });

    test("on a full disk, add is a DiskFullError and the servers stored before stay", () => {
      withStore((store, reopen) => {
        store.lbServers.add({ name: "web", config: WEB, createdAt: 1000 });
        const pages = store.db.prepare<{ page_count: number }>("PRAGMA page_count").get()?.page_count;
        store.db.exec(`PRAGMA max_page_count = ${pages}`);
        const big = { ...WEB, name: "big", padding: "x".repeat(200_000) };
        assert.throws(() => store.lbServers.add({ name: "big", config: big, createdAt: 2000 }), DiskFullError);
        assert.deepEqual(reopen().lbServers.list().map((s) => s.name), ["web"]);
      });
    });
  });
}
