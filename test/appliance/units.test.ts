// The systemd units in appliance/systemd: `systemd-analyze verify` judges them in a throwaway root
// that holds the unit, systemd's own units, /bin/kill and the real vigil binary at the ExecStart path
// (verify checks that the commands exist there); `systemd-analyze security` scores their sandbox;
// and what they grant is read back from the files.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { BINARY } from "../helpers/vigil-process.ts";

const UNITS_DIR = resolve(import.meta.dir, "../../appliance/systemd");
const ANALYZE = Bun.which("systemd-analyze");
// Debian with merged /usr has them in both places; older layouts only in /lib.
const SYSTEM_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((dir) => existsSync(join(dir, "sysinit.target")));
const problem = !ANALYZE
  ? "systemd-analyze is not installed (Debian package systemd)"
  : !SYSTEM_UNITS
    ? "systemd's own units (sysinit.target) are not installed"
    : null;
if (problem) console.warn(`units.test: verify and security skipped: ${problem}`);

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function analyze(...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([ANALYZE!, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SYSTEMD_COLORS: "0" } });
  return { code: r.exitCode, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

/** A root with the unit in /etc/systemd/system and, unless told otherwise, vigil at /usr/local/bin. */
function unitRoot(unit: string, { withBinary = true } = {}): string {
  const root = mkdtempSync(join(tmpdir(), "vigil-units-"));
  roots.push(root);
  const put = (from: string, to: string) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(from, join(root, to));
  };
  put(join(UNITS_DIR, unit), `etc/systemd/system/${unit}`);
  cpSync(SYSTEM_UNITS!, join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
  put(realpathSync(Bun.which("kill") ?? "/bin/kill"), "bin/kill");
  if (withBinary) {
    if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` first`);
    mkdirSync(join(root, "usr/local/bin"), { recursive: true });
    try {
      linkSync(BINARY, join(root, "usr/local/bin/vigil")); // 100 MB: a link when on the same file system
    } catch {
      copyFileSync(BINARY, join(root, "usr/local/bin/vigil"));
    }
  }
  return root;
}

/** Key → values of a unit file (a key may repeat, as ExecReload does). */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(join(UNITS_DIR, unit), "utf8").split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

const UNITS = [
  { unit: "vigil.service", config: "/etc/vigil/vigil.yaml", capabilities: ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"] },
  // The agent serves no DNS: no port below 1024, so only what icmp probes need.
  { unit: "vigil-agent.service", config: "/etc/vigil/agent.yaml", capabilities: ["CAP_NET_RAW"] },
];

describe.each(UNITS)("$unit", ({ unit, config, capabilities }) => {
  test.skipIf(problem !== null)("systemd-analyze verify is clean, with the binary at the ExecStart path", () => {
    const root = unitRoot(unit);
    expect(analyze("verify", `--root=${root}`, unit)).toEqual({ code: 0, out: "" });
  });

  test.skipIf(problem !== null)("without the binary, verify says so (the check above is a real one)", () => {
    const root = unitRoot(unit, { withBinary: false });
    const { code, out } = analyze("verify", `--root=${root}`, unit);
    expect(code).not.toBe(0);
    expect(out).toContain("/usr/local/bin/vigil is not executable");
  });

  test.skipIf(problem !== null)("systemd-analyze security rates its exposure 2.0 or lower (OK)", () => {
    const { code, out } = analyze("security", "--offline=yes", "--threshold=20", "--no-pager", join(UNITS_DIR, unit));
    const score = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(out);
    expect(score?.[2]).toBe("OK");
    expect(Number(score?.[1])).toBeLessThanOrEqual(2.0);
    expect(code).toBe(0);
  });

  test("runs as vigil with only its capabilities, read-only but for /var/lib/vigil, checked config, SIGHUP reload", () => {
    const d = directives(unit);
    const one = (key: string) => d.get(key)?.join(" | ");
    expect(one("User")).toBe("vigil");
    expect(one("Group")).toBe("vigil");
    expect(one("CapabilityBoundingSet")).toBe(capabilities.join(" "));
    expect(one("AmbientCapabilities")).toBe(capabilities.join(" "));
    expect(one("NoNewPrivileges")).toBe("yes");
    expect(one("ProtectSystem")).toBe("strict");
    expect(one("ReadWritePaths")).toBe("/var/lib/vigil");
    expect(one("StateDirectory")).toBe("vigil");
    expect(one("StateDirectoryMode")).toBe("0700");
    expect(one("ProtectHome")).toBe("yes");
    expect(one("PrivateTmp")).toBe("yes");
    expect(one("EnvironmentFile")).toBe("-/etc/vigil/vigil.env");
    expect(one("ExecStartPre")).toBe(`/usr/local/bin/vigil check-config ${config}`);
    expect(one("ExecStart")).toBe(`/usr/local/bin/vigil --config ${config}`);
    expect(d.get("ExecReload")).toEqual([`/usr/local/bin/vigil check-config ${config}`, "/bin/kill -HUP $MAINPID"]);
    expect(one("Restart")).toBe("on-failure");
    expect(one("TimeoutStopSec")).toBe("15s");
    // JIT code needs writable-then-executable memory: this setting would stop Bun at start.
    expect(d.has("MemoryDenyWriteExecute")).toBe(false);
    // The agent's predictive signals read /proc/stat and /proc/meminfo.
    expect(d.has("ProcSubset")).toBe(false);
    expect(one("WantedBy")).toBe("multi-user.target");
  });
});
