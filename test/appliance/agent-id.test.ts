// `vigil agent-id` (src/cli/agent-id.ts), which install-agent.sh runs to make the agent's identity:
// it prints the id, makes the identity only when there is none, and refuses bad arguments and
// unusable files without changing anything.

import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentIdCommand } from "../../src/cli/agent-id.ts";
import { IDENTITY_FILE_NAME } from "../../src/agent/identity.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IS_ROOT = process.geteuid?.() === 0;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vigil-agent-id-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

async function agentId(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await agentIdCommand.run(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const snapshot = (file: string) => ({ text: readFileSync(file, "utf8"), mtimeMs: statSync(file).mtimeMs, mode: statSync(file).mode & 0o777 });

describe("vigil agent-id", () => {
  test("makes the identity on first use (dir 0700, file 0600) and prints its id", async () => {
    const dataDir = join(tmp, "var", "lib", "vigil");
    const r = await agentId("--data-dir", dataDir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(UUID);
    const file = join(dataDir, IDENTITY_FILE_NAME);
    expect(r.err).toBe(`vigil agent-id: made a new agent identity in ${file}`);
    expect(JSON.parse(readFileSync(file, "utf8")).agent_id).toBe(r.out);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("run again, prints the same id and changes nothing", async () => {
    const first = await agentId(`--data-dir=${tmp}`);
    const file = join(tmp, IDENTITY_FILE_NAME);
    const before = snapshot(file);
    const again = await agentId("--data-dir", tmp);
    expect(again).toEqual({ code: 0, out: first.out, err: "" });
    expect(snapshot(file)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([IDENTITY_FILE_NAME]);
  });

  test("--config takes the data directory from the config's data_dir", async () => {
    const dataDir = join(tmp, "state");
    const config = join(tmp, "agent.yaml");
    writeFileSync(config, `data_dir: ${dataDir}\n`);
    const r = await agentId("--config", config);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dataDir, IDENTITY_FILE_NAME), "utf8")).agent_id).toBe(r.out);
  });

  test("an invalid --config is refused with the config's error, and nothing is made", async () => {
    const config = join(tmp, "agent.yaml");
    writeFileSync(config, `data_dir: ${join(tmp, "state")}\ndat_dir: x\n`);
    const r = await agentId("-c", config);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("dat_dir (line 2): unknown key");
    expect(readdirSync(tmp)).toEqual(["agent.yaml"]);
  });

  test.each([
    [["--data-dir", "a", "--config", "b"], "give --data-dir or --config, not both"],
    [["--data-dir"], "--data-dir needs a value"],
    [["--data-dir="], "--data-dir needs a value"], // would otherwise be the working directory
    [["--datadir", "x"], 'unexpected argument "--datadir"'],
    [["/var/lib/vigil"], 'unexpected argument "/var/lib/vigil"'],
  ])("bad arguments %j: exit 2 with the reason and the usage", async (args, reason) => {
    const cwd = readdirSync(process.cwd());
    const r = await agentId(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toStartWith(`vigil agent-id: ${reason}\nusage: vigil agent-id [--data-dir DIR | --config FILE]`);
    expect(readdirSync(process.cwd())).toEqual(cwd);
  });

  test("an identity file that does not read back is an error, and is left as it is", async () => {
    const file = join(tmp, IDENTITY_FILE_NAME);
    writeFileSync(file, "{ not json", { mode: 0o600 });
    const before = snapshot(file);
    const r = await agentId("--data-dir", tmp);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`agent identity ${file} is unusable: not JSON`);
    expect(snapshot(file)).toEqual(before);
  });

  test("a data directory that is a file is an error naming it", async () => {
    const notDir = join(tmp, "file");
    writeFileSync(notDir, "");
    const r = await agentId("--data-dir", notDir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`data_dir ${notDir} is not usable`);
  });

  test.skipIf(!IS_ROOT)("as root, a new identity belongs to the data directory's owner, so the agent can read it", async () => {
    const dataDir = join(tmp, "owned");
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, 65534, 65534);
    const r = await agentId("--data-dir", dataDir);
    expect(r.code).toBe(0);
    const stat = statSync(join(dataDir, IDENTITY_FILE_NAME));
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([65534, 65534, 0o600]);
  });
});
