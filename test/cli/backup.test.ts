// `vigil backup`: a consistent copy of a store that another process is writing to, restored by
// putting the file in place; and each way a backup can fail, with nothing overwritten or left behind.

import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openStore } from "../../src/store/open.ts";
import { IS_ROOT } from "../helpers/netns.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
const WRITER = resolve(import.meta.dir, "../fixtures/store-writer.ts");

let tmp: string;
const writers: ReturnType<typeof Bun.spawn>[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) {
    w.kill();
    await w.exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
const freshDir = () => (tmp = mkdtempSync(join(tmpdir(), "vigil-backup-")));

/** `vigil backup ARGS` from source, optionally run through wrap (e.g. unshare). */
async function backup(args: string[], wrap: string[] = []) {
  const proc = Bun.spawn([...wrap, process.execPath, MAIN, "backup", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

/** Starts test/fixtures/store-writer.ts on dataDir and waits until it is writing. */
async function startWriter(dataDir: string, initialRows: number) {
  const proc = Bun.spawn([process.execPath, WRITER, dataDir, String(initialRows)], { stdout: "pipe", stderr: "inherit" });
  writers.push(proc);
  const reader = proc.stdout.getReader();
  let seen = "";
  await waitFor("the writer to start writing", async () => {
    const chunk = await reader.read();
    seen += new TextDecoder().decode(chunk.value ?? new Uint8Array());
    if (chunk.done) throw new Error(`the writer exited: ${seen}`);
    return seen.includes("writing");
  }, 30_000);
  return proc;
}

/** Opens a database file read-only for the duration of use. */
function readDb<T>(file: string, use: (db: Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return use(db);
  } finally {
    db.close();
  }
}
const countAudit = (db: Database) => db.query<{ n: number }, []>("SELECT count(*) AS n FROM audit").get()!.n;
const metaRows = (db: Database) => Number(db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'audit_rows'").get()?.value);
const integrity = (db: Database) => db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all().map((r) => r.integrity_check);

function storeWithNodeId(dataDir: string, nodeId: string): void {
  const store = openStore(dataDir);
  store.meta.set("node_id", nodeId);
  store.close();
}

describe("vigil backup", () => {
  test("copies a store while another process writes to it: every copy is one moment, intact", async () => {
    const dir = freshDir();
    const data = join(dir, "data");
    await startWriter(data, 20_000);
    const live = join(data, "vigil.db");
    let caughtMidWrite = 0;
    for (let i = 0; i < 4; i++) {
      const before = readDb(live, metaRows);
      const target = join(dir, `copy-${i}.db`);
      const r = await backup(["--data-dir", data, "--to", target]);
      const after = readDb(live, metaRows);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`backed up ${live} to ${target}: `);
      expect(r.stdout).toContain("integrity ok");
      expect(statSync(target).mode & 0o777).toBe(0o600);
      const copy = readDb(target, (db) => ({ integrity: integrity(db), audit: countAudit(db), meta: metaRows(db) }));
      expect(copy.integrity).toEqual(["ok"]);
      // The audit rows and the count beside them were written in one transaction each time.
      expect(copy.audit).toBe(copy.meta);
      expect(copy.audit).toBeGreaterThanOrEqual(before);
      expect(copy.audit).toBeLessThanOrEqual(after);
      if (before < copy.audit && copy.audit < after) caughtMidWrite++;
      // A self-contained file: no WAL beside it.
      expect(existsSync(`${target}-wal`)).toBe(false);
    }
    expect(caughtMidWrite).toBeGreaterThan(0);
  }, 60_000);

  test("--config backs up the config's data_dir; the copy put in place of vigil.db restores the store", async () => {
    const dir = freshDir();
    storeWithNodeId(join(dir, "data"), "node-before-backup");
    const config = join(dir, "vigil.yaml");
    writeFileSync(config, `mode: standalone\ndns:\n  zones: [b.test]\n  nameservers: [{ name: ns1.b.test, addresses: [127.0.0.1] }]\ndata_dir: ${dir}/data\n`);
    const target = join(dir, "backup.db");
    const r = await backup(["--config", config, "--to", target]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    const restored = join(dir, "restored");
    mkdirSync(restored);
    copyFileSync(target, join(restored, "vigil.db"));
    const store = openStore(restored);
    expect(store.meta.get("node_id")).toBe("node-before-backup");
    store.close();
  });

  test("never overwrites an existing file", async () => {
    const dir = freshDir();
    storeWithNodeId(join(dir, "data"), "n1");
    const target = join(dir, "precious");
    writeFileSync(target, "keep me");
    const r = await backup(["--data-dir", join(dir, "data"), "--to", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`vigil backup: ${target} already exists: a backup never overwrites a file`);
    expect(readFileSync(target, "utf8")).toBe("keep me");
  });

  test("a missing data dir or database is named, and nothing is created", async () => {
    const dir = freshDir();
    const missingDir = join(dir, "nope");
    const noDir = await backup(["--data-dir", missingDir, "--to", join(dir, "a.db")]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain(`data_dir ${missingDir} does not exist`);
    expect(existsSync(missingDir)).toBe(false);

    const emptyDir = join(dir, "empty");
    mkdirSync(emptyDir);
    const noDb = await backup(["--data-dir", emptyDir, "--to", join(dir, "b.db")]);
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toContain(`${emptyDir}/vigil.db does not exist`);
    expect(readdirSync(emptyDir)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["empty"]);
  });

  test("a target it cannot create is named with the reason", async () => {
    const dir = freshDir();
    const data = join(dir, "data");
    storeWithNodeId(data, "n1");
    const noParent = await backup(["--data-dir", data, "--to", join(dir, "missing", "b.db")]);
    expect(noParent.code).toBe(1);
    expect(noParent.stderr).toContain(`directory ${dir}/missing does not exist`);

    writeFileSync(join(dir, "file"), "");
    const parentIsFile = await backup(["--data-dir", data, "--to", join(dir, "file", "b.db")]);
    expect(parentIsFile.code).toBe(1);
    expect(parentIsFile.stderr).toContain(`${dir}/file is not a directory`);

    const isDir = await backup(["--data-dir", data, "--to", data]);
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toContain("already exists");
  });

  test("a data dir whose vigil.db is not SQLite is refused and the empty target removed", async () => {
    const dir = freshDir();
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "vigil.db"), "this is not a database ".repeat(100));
    const target = join(dir, "copy.db");
    const r = await backup(["--data-dir", join(dir, "data"), "--to", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${dir}/data/vigil.db is not a SQLite database`);
    expect(existsSync(target)).toBe(false);
  });

  test("usage errors exit 2", async () => {
    expect((await backup(["--data-dir", "/x"])).code).toBe(2);
    expect((await backup(["--to", "/x/y.db"])).stderr).toContain("one of --config FILE or --data-dir DIR is required");
    expect((await backup(["--to", "/x/y.db", "--data-dir", "/x", "--config", "/x.yaml"])).code).toBe(2);
  });

  // A real full (and a real read-only) file system: a small tmpfs in a private mount namespace.
  const canMount = IS_ROOT && Bun.which("unshare") !== null;
  const onTmpfs = (mountOptions: string, mountPoint: string) => [
    "unshare", "--mount", "--propagation", "private", "sh", "-c",
    // Mount, run the backup, then say what it left on that file system before the namespace goes.
    'opts=$1 dir=$2; shift 2; mount -t tmpfs -o "$opts" tmpfs "$dir" || exit 99; "$@"; rc=$?; echo "left: $(ls -A "$dir")" >&2; exit $rc',
    "sh", mountOptions, mountPoint,
  ];

  test.skipIf(!canMount)("a full disk is reported and the partial copy removed", async () => {
    const dir = freshDir();
    const data = join(dir, "data");
    const writer = await startWriter(data, 5_000); // about 1.5 MB of rows
    writer.kill();
    await writer.exited;
    const mount = join(dir, "small");
    mkdirSync(mount);
    const target = join(mount, "copy.db");
    const r = await backup(["--data-dir", data, "--to", target], onTmpfs("size=256k", mount));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`vigil backup: disk full writing ${target}: no backup was made`);
    expect(r.stderr).toMatch(/^left: $/m);
  });

  test.skipIf(!canMount)("a read-only file system is reported", async () => {
    const dir = freshDir();
    const data = join(dir, "data");
    storeWithNodeId(data, "n1");
    const mount = join(dir, "ro");
    mkdirSync(mount);
    const r = await backup(["--data-dir", data, "--to", join(mount, "copy.db")], onTmpfs("ro,size=256k", mount));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${mount} is on a read-only file system`);
    expect(r.stderr).toMatch(/^left: $/m);
  });
});
