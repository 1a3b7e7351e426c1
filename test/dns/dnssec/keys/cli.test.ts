// `vigil keys` on a real data_dir: keys made as a node's first start makes them, then each subcommand.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keysCommand } from "../../../../src/cli/keys.ts";
import { readKeySet } from "../../../../src/dns/dnssec/keyring.ts";
import { openStore } from "../../../../src/store/open.ts";
import { dnssecConfig, secretForms, TempDirs, testKeyring } from "./helpers.ts";

const ZONE = "cli.test";
const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** A config file for a node with its data_dir in a fresh temp dir. */
function nodeConfig(zones = [ZONE]): { path: string; dataDir: string } {
  const dir = dirs.dir();
  const path = join(dir, "vigil.yaml");
  writeFileSync(path, `mode: standalone\ndns:\n  zones: [${zones.join(", ")}]\n  dnssec: { key_type: ksk_zsk }\ndata_dir: ${dir}/data\n`);
  return { path, dataDir: join(dir, "data") };
}

/** As the node's first start: KSK + ZSK in the data_dir. */
function firstStart(dataDir: string) {
  const store = openStore(dataDir);
  const { keyring } = testKeyring(store, { zones: [ZONE], dnssec: dnssecConfig({ key_type: "ksk_zsk" }) });
  keyring.ensureKeys();
  const set = keyring.keySet(ZONE);
  const ds = keyring.dsRecords(ZONE);
  store.close();
  return { set, ds };
}

async function keys(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await keysCommand.run(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

function storedSet(dataDir: string) {
  const store = openStore(dataDir);
  try {
    return readKeySet(store.dnssecKeys, ZONE)!;
  } finally {
    store.close();
  }
}

describe("vigil keys", () => {
  test("list shows tags, roles, states and times, never key material", async () => {
    const { path, dataDir } = nodeConfig();
    expect((await keys("list", "--config", path)).out).toContain("no keys yet");
    const { set } = firstStart(dataDir);

    const r = await keys("list", "--config", path);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^ZONE\s+TAG\s+ROLE\s+ALGORITHM\s+STATE\s+SINCE\s+NEXT CHANGE\s+CREATED$/);
    for (const key of set.keys) {
      expect(lines.some((l) => new RegExp(`^${ZONE}\\s+${key.tag}\\s+${key.role.toUpperCase()}\\s+13\\s+active\\s+\\d{4}-`).test(l))).toBe(true);
    }
    for (const secret of secretForms(set.keys)) expect(r.out).not.toContain(secret);
  });

  test("ds prints the DS records the API gives", async () => {
    const { path, dataDir } = nodeConfig();
    const { ds } = firstStart(dataDir);
    const r = await keys("ds", ZONE, "--config", path);
    expect(r).toEqual({ code: 0, out: ds.map((d) => d.record).join("\n"), err: "" });
  });

  test("rollover publishes a new key of the role (ZSK by default with ksk_zsk) and refuses a second one", async () => {
    const { path, dataDir } = nodeConfig();
    firstStart(dataDir);
    const zsk = await keys("rollover", ZONE, "--config", path);
    expect(zsk.code).toBe(0);
    expect(zsk.out).toMatch(/^cli\.test: new ZSK \d+ published\./);
    const ksk = await keys("rollover", ZONE, "--role", "ksk", "--config", path);
    expect(ksk.out).toContain("publish it at the parent zone");

    const set = storedSet(dataDir);
    expect(set.revision).toBe(3);
    expect(set.keys.filter((k) => k.state === "published").map((k) => k.role).sort()).toEqual(["ksk", "zsk"]);
    const again = await keys("rollover", ZONE, "--role=zsk", "--config", path);
    expect(again.code).toBe(1);
    expect(again.err).toContain("already under way");
    expect((await keys("rollover", ZONE, "--role", "master", "--config", path)).err).toContain("expected zsk, ksk or csk");
    expect((await keys("rollover", "other.test", "--config", path)).err).toContain("not one of the config's zones");
  });

  test("export writes a new 0600 file, never over an existing one; import takes it up on another node with a higher revision", async () => {
    const from = nodeConfig();
    firstStart(from.dataDir);
    const file = join(dirs.dir(), "keys.json");
    expect((await keys("export", ZONE, "--out", file, "--config", from.path)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).format).toBe("vigil-dnssec-keys-1");
    const twice = await keys("export", ZONE, "--out", file, "--config", from.path);
    expect(twice.code).toBe(1);
    expect(twice.err).toContain("never overwritten");

    const to = nodeConfig();
    const r = await keys("import", file, "--config", to.path);
    expect(r.code).toBe(0);
    expect(storedSet(to.dataDir)).toEqual({ ...storedSet(from.dataDir), revision: 2 });

    const elsewhere = nodeConfig(["other.test"]);
    expect((await keys("import", file, "--config", elsewhere.path)).err).toContain("not one of the config's zones");
  });

  test("a subcommand and --config are required", async () => {
    expect((await keys("list")).code).toBe(2);
    expect((await keys("frobnicate", "--config", "x")).err).toContain("expected one of list, ds, rollover, export, import");
  });
});
