// The store's behaviour, written once and run by both runtimes: store.test.ts (Bun, bun:sqlite) and
// node/store-test.ts (Node, better-sqlite3). Assertions use node:assert, which Bun provides too.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskFullError } from "../../src/store/disk-full.ts";
import { MIGRATIONS, migrate, schemaVersion } from "../../src/store/migrations.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";

export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  test(name: string, body: () => void): unknown;
}

/** Runs body with a fresh temp dir; stores it opened are closed and the dir removed afterwards. */
function withTempDir(body: (tmp: string, open: (dataDir: string) => Store) => void): void {
  const tmp = mkdtempSync(join(tmpdir(), "vigil-store-"));
  const opened: Store[] = [];
  const open = (dataDir: string) => {
    const store = openStore(dataDir);
    opened.push(store);
    return store;
  };
  try {
    body(tmp, open);
  } finally {
    for (const store of opened) store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;
const pragma = (store: Store, name: string) =>
  Object.values(store.db.prepare<Record<string, unknown>>(`PRAGMA ${name}`).get() ?? {})[0];

export function storeSpec({ describe, test }: TestRunner): void {
  describe("opening the store", () => {
    test("creates a missing data_dir (mode 0700) and vigil.db with its WAL files (mode 0600)", () => {
      withTempDir((tmp, open) => {
        const dataDir = join(tmp, "var", "vigil");
        const store = open(dataDir);
        store.meta.set("node_id", "n1");
        assert.equal(mode(join(tmp, "var")), 0o700);
        assert.equal(mode(dataDir), 0o700);
        assert.equal(store.file, join(dataDir, "vigil.db"));
        assert.ok(existsSync(`${store.file}-shm`), "WAL mode keeps a -shm file while open");
        for (const file of [store.file, `${store.file}-wal`, `${store.file}-shm`]) assert.equal(mode(file), 0o600, file);
      });
    });

    test("gives a new data_dir mode 0700 even when the umask takes owner bits away", () => {
      withTempDir((tmp, open) => {
        const dataDir = join(tmp, "var", "vigil");
        const umask = process.umask(0o277);
        try {
          open(dataDir);
        } finally {
          process.umask(umask);
        }
        assert.equal(mode(join(tmp, "var")), 0o700);
        assert.equal(mode(dataDir), 0o700);
      });
    });

    test("tightens the mode of a database file that was readable by others", () => {
      withTempDir((tmp, open) => {
        open(tmp).close();
        const file = join(tmp, "vigil.db");
        chmodSync(file, 0o644);
        open(tmp);
        assert.equal(mode(file), 0o600);
      });
    });

    test("uses WAL, synchronous=NORMAL, foreign keys and a busy timeout", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        assert.equal(pragma(store, "journal_mode"), "wal");
        assert.equal(pragma(store, "synchronous"), 1);
        assert.equal(pragma(store, "foreign_keys"), 1);
        assert.equal(pragma(store, "busy_timeout"), 5000);
      });
    });

    test("refuses a data_dir whose parent is a regular file, naming the path and the reason", () => {
      withTempDir((tmp) => {
        writeFileSync(join(tmp, "file"), "x");
        const dataDir = join(tmp, "file", "data");
        assert.throws(() => openStore(dataDir), {
          name: "StartupError",
          message: `data_dir ${dataDir} is not usable: ENOTDIR: not a directory`,
        });
      });
    });

    test("refuses a data_dir that is a regular file", () => {
      withTempDir((tmp) => {
        const dataDir = join(tmp, "file");
        writeFileSync(dataDir, "x");
        assert.throws(() => openStore(dataDir), {
          name: "StartupError",
          message: `data_dir ${dataDir} is not usable: not a directory`,
        });
      });
    });

    test("refuses a data_dir that cannot be created under /proc, without hanging", () => {
      if (!existsSync("/proc/self")) return; // not Linux
      assert.throws(() => openStore("/proc/vigil-test/data"), {
        name: "StartupError",
        message: /^data_dir \/proc\/vigil-test\/data is not usable: ENOENT/,
      });
    });

    test("refuses a file that is not a SQLite database and leaves it as it was", () => {
      withTempDir((tmp) => {
        const file = join(tmp, "vigil.db");
        const text = "zone example.com. is not a database\n".repeat(40);
        writeFileSync(file, text);
        assert.throws(() => openStore(tmp), {
          name: "StartupError",
          message: `${file} is not a SQLite database: move it aside or point data_dir elsewhere`,
        });
        assert.equal(readFileSync(file, "utf8"), text);
      });
    });
  });

  describe("migrations", () => {
    test("a new database gets every migration; reopening applies none again and keeps the data", () => {
      withTempDir((tmp, open) => {
        const first = open(tmp);
        assert.equal(schemaVersion(first.db), MIGRATIONS.length);
        first.meta.set("node_id", "n1");
        first.close();
        const again = open(tmp);
        assert.equal(schemaVersion(again.db), MIGRATIONS.length);
        assert.equal(migrate(again.db, again.file), 0);
        assert.equal(again.meta.get("node_id"), "n1");
      });
    });

    test("only pending migrations run, each exactly once", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        // Not idempotent on purpose: running it twice would fail on the existing table.
        const next = [...MIGRATIONS, { name: "add a table", sql: "CREATE TABLE later (x INTEGER) STRICT" }];
        assert.equal(migrate(store.db, store.file, next), 1);
        assert.equal(migrate(store.db, store.file, next), 0);
        assert.equal(schemaVersion(store.db), next.length);
      });
    });

    test("a failing migration leaves neither its changes nor a new version behind", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        const broken = [
          ...MIGRATIONS,
          { name: "fine", sql: "CREATE TABLE fine (x INTEGER)" },
          { name: "clashes", sql: "CREATE TABLE meta (x INTEGER)" },
        ];
        assert.throws(() => migrate(store.db, store.file, broken), /already exists/);
        assert.equal(schemaVersion(store.db), MIGRATIONS.length);
        const fine = store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'fine'").get();
        assert.equal(fine, undefined);
      });
    });

    test("a database from a newer vigil is refused and left byte for byte as it was", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        store.meta.set("node_id", "n1");
        store.db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
        // As a restored backup may be: not in WAL mode, which opening must not switch on.
        store.db.exec("PRAGMA journal_mode = DELETE");
        store.close();
        const before = readFileSync(store.file);
        assert.throws(() => openStore(tmp), {
          name: "StartupError",
          message:
            `database ${store.file} has schema version ${MIGRATIONS.length + 1}, newer than this vigil supports (${MIGRATIONS.length}): ` +
            "upgrade vigil or restore a backup",
        });
        assert.deepEqual(readFileSync(store.file), before);
      });
    });
  });

  describe("zone serials", () => {
    const now = 1_700_000_000;

    test("the first serial of a zone is the current unix time", () => {
      withTempDir((tmp, open) => {
        assert.equal(open(tmp).zoneSerials.serialFor("example.com.", "h1", now + 0.9), now);
      });
    });

    test("unchanged content keeps its serial however much time passes", () => {
      withTempDir((tmp, open) => {
        const serials = open(tmp).zoneSerials;
        const first = serials.serialFor("example.com.", "h1", now);
        assert.equal(serials.serialFor("example.com.", "h1", now + 86_400), first);
      });
    });

    test("changed content gets the current time, or stored + 1 when that is not higher", () => {
      withTempDir((tmp, open) => {
        const serials = open(tmp).zoneSerials;
        serials.serialFor("example.com.", "h1", now);
        assert.equal(serials.serialFor("example.com.", "h2", now + 60), now + 60);
        assert.equal(serials.serialFor("example.com.", "h3", now + 60), now + 61);
        // Going back to earlier content is still a change.
        assert.equal(serials.serialFor("example.com.", "h1", now + 60), now + 62);
      });
    });

    test("never decreases when the clock goes backwards", () => {
      withTempDir((tmp, open) => {
        const serials = open(tmp).zoneSerials;
        serials.serialFor("example.com.", "h1", now);
        assert.equal(serials.serialFor("example.com.", "h2", now - 3600), now + 1);
      });
    });

    test("zones are counted separately", () => {
      withTempDir((tmp, open) => {
        const serials = open(tmp).zoneSerials;
        serials.serialFor("a.example.", "h1", now);
        serials.serialFor("a.example.", "h2", now);
        assert.equal(serials.serialFor("b.example.", "h1", now), now);
      });
    });

    test("survive a restart, also with a clock that went backwards", () => {
      withTempDir((tmp, open) => {
        const before = open(tmp);
        before.zoneSerials.serialFor("example.com.", "h1", now);
        const last = before.zoneSerials.serialFor("example.com.", "h2", now);
        before.close();
        const after = open(tmp).zoneSerials;
        assert.equal(after.serialFor("example.com.", "h2", now + 10), last);
        assert.equal(after.serialFor("example.com.", "h3", now - 10), last + 1);
      });
    });
  });

  describe("audit trail", () => {
    test("entries come back newest first, page back by id, and survive a reopen", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        for (let i = 1; i <= 5; i++) {
          store.audit.record({ at: 1000 + i, client: "127.0.0.1", method: "PUT", route: `/api/v1/overrides/app/10.0.0.${i}`, status: 200, summary: `healthy=false #${i}` });
        }
        const newest = store.audit.entries({ limit: 2 });
        assert.deepEqual(newest.map((e) => e.summary), ["healthy=false #5", "healthy=false #4"]);
        const older = store.audit.entries({ beforeId: newest[1]!.id, limit: 10 });
        assert.deepEqual(older.map((e) => e.at), [1003, 1002, 1001]);
        store.close();
        const reopened = open(tmp);
        assert.equal(reopened.audit.entries({ limit: 10 }).length, 5);
        assert.deepEqual(reopened.audit.entries({ limit: 1 })[0], { id: 5, at: 1005, client: "127.0.0.1", method: "PUT", route: "/api/v1/overrides/app/10.0.0.5", status: 200, summary: "healthy=false #5" });
      });
    });
  });

  describe("a full disk", () => {
    /** Lets the database grow no further than it is now. */
    const fillDisk = (store: Store) => {
      const pages = store.db.prepare<{ page_count: number }>("PRAGMA page_count").get()?.page_count;
      store.db.exec(`PRAGMA max_page_count = ${pages}`);
    };
    const big = "x".repeat(200_000);

    test("a write that does not fit is a clear error and what was stored before survives", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        store.meta.set("node_id", "n1");
        const serial = store.zoneSerials.serialFor("example.com.", "h1", 1_700_000_000);
        fillDisk(store);
        assert.throws(() => store.meta.set("blob", big), (err: unknown) => {
          assert.ok(err instanceof DiskFullError);
          assert.match(err.message, new RegExp(`^disk full writing ${store.file}: `));
          return true;
        });
        store.close();
        const reopened = open(tmp);
        assert.equal(reopened.meta.get("node_id"), "n1");
        assert.equal(reopened.meta.get("blob"), undefined);
        assert.equal(reopened.zoneSerials.serialFor("example.com.", "h1", 1_800_000_000), serial);
      });
    });

    test("a transaction that runs out of space leaves none of its writes", () => {
      withTempDir((tmp, open) => {
        const store = open(tmp);
        store.meta.set("node_id", "n1");
        fillDisk(store);
        let smallWriteDone = false;
        assert.throws(
          () =>
            store.db.transaction(() => {
              store.meta.set("node_id", "changed");
              smallWriteDone = true;
              store.meta.set("blob", big);
            }),
          DiskFullError,
        );
        assert.ok(smallWriteDone, "the first write fitted and ran inside the transaction");
        assert.equal(store.meta.get("node_id"), "n1");
        assert.equal(store.meta.get("blob"), undefined);
      });
    });
  });
}
