import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptProbe } from "../../../src/checks/probes/script.ts";
import { waitFor } from "../../helpers/wait.ts";
import { runProbe, targetOf } from "./loopback.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-script-probe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let scripts = 0;
/** Writes an executable sh script and returns its path. */
function script(body: string, { executable = true } = {}): string {
  const path = join(dir, `check-${++scripts}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, executable ? 0o755 : 0o644);
  return path;
}

const probe = (command: string[], { max_output = 4096, timeout = 5000, port = 8080 } = {}) =>
  runProbe(scriptProbe, targetOf({ type: "script", command, max_output }, port, { timeout }));

/** Gone, or a zombie nobody reaps (in a container, PID 1 may not). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

function pidsIn(file: string): number[] {
  return readFileSync(file, "utf8").trim().split("\n").map(Number);
}

describe("script probe: exit status", () => {
  test("exit 0 is up, with the first line of output", async () => {
    expect(await probe([script("echo all good\necho more")])).toMatchObject({ status: "up", detail: "exit 0: all good" });
  });

  test("exit 1 is a warning", async () => {
    expect(await probe([script("echo replication lag high; exit 1")])).toMatchObject({ status: "warning", detail: "exit 1: replication lag high" });
  });

  test("exit 2 or more is down, and stderr counts as output", async () => {
    expect(await probe([script("echo disk full >&2; exit 2")])).toMatchObject({ status: "down", detail: "exit 2: disk full" });
    expect(await probe([script("exit 7")])).toMatchObject({ status: "down", detail: "exit 7" });
  });

  test("death by a signal is down", async () => {
    expect(await probe([script("kill -TERM $$")])).toMatchObject({ status: "down", detail: "killed by SIGTERM" });
  });
});

describe("script probe: how it runs", () => {
  test("the target comes in VIGIL_* environment variables", async () => {
    const result = await probe([script('echo "$VIGIL_TARGET_ADDRESS $VIGIL_TARGET_PORT $VIGIL_CHECK_TYPE"')], { port: 6379 });
    expect(result.detail).toBe("exit 0: 127.0.0.1 6379 script");
  });

  test("the command is an argv list: no shell reads its arguments", async () => {
    const result = await probe(["/bin/echo", "$HOME; exit 3"]);
    expect(result).toMatchObject({ status: "up", detail: "exit 0: $HOME; exit 3" });
  });

  test("a missing command and one that is not executable are down with a clear detail", async () => {
    expect(await probe(["/nonexistent/vigil-check"])).toMatchObject({ status: "down", detail: "command not found: /nonexistent/vigil-check" });
    const notExecutable = script("exit 0", { executable: false });
    expect(await probe([notExecutable])).toMatchObject({ status: "down", detail: `permission denied: ${notExecutable}` });
  });
});

describe("script probe: output", () => {
  test("only max_output bytes are kept", async () => {
    expect((await probe([script("echo abcdefghijklmnop")], { max_output: 10 })).detail).toBe("exit 0: abcdefghij");
  });

  test("a script writing far more than a pipe holds is not blocked", async () => {
    const result = await probe([script("yes | head -c 4000000; exit 0")], { max_output: 100, timeout: 3000 });
    expect(result).toMatchObject({ status: "up", detail: "exit 0: y" });
  });
});

describe("script probe: timeout", () => {
  test("a script that sleeps is killed with its children, and the probe settles at the timeout", async () => {
    const pidFile = join(dir, "sleeper.pids");
    const sleeper = script('sleep 60 &\necho $! > "$1"\necho $$ >> "$1"\nsleep 60');
    const started = performance.now();
    const result = await probe([sleeper, pidFile], { timeout: 500 });
    expect(result).toMatchObject({ status: "down", detail: "timeout after 500 ms" });
    expect(performance.now() - started).toBeLessThan(2000);
    const pids = pidsIn(pidFile);
    expect(pids).toHaveLength(2);
    await waitFor("the script and its child to be killed", () => pids.every(processGone), 3000);
  });

  test("children left running when the script exits are killed, and do not hold the probe", async () => {
    const pidFile = join(dir, "leftover.pids");
    const leaver = script('sleep 60 &\necho $! > "$1"\necho started');
    const started = performance.now();
    const result = await probe([leaver, pidFile], { timeout: 5000 });
    expect(result).toMatchObject({ status: "up", detail: "exit 0: started" });
    expect(performance.now() - started).toBeLessThan(2000);
    await waitFor("the leftover child to be killed", () => pidsIn(pidFile).every(processGone), 3000);
  });
});
