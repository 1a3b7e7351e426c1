// The units under a real systemd: a throwaway root (throwaway-root.ts) booted with systemd as PID 1
// of its own PID, mount, network, UTS, IPC and cgroup namespaces, the way systemd runs in a container.
// It starts only journald and what a test starts; generators and sysinit.target's usual units are
// left out, /sys and /proc/sys (but net.*) are read-only, and its cgroups live in a child cgroup made
// for the test and removed after. There: install-agent.sh with systemd running, vigil-agent.service
// and vigil.service with their real sandboxing, DNS on port 53 as the vigil user, reload, a refused
// config, restart on failure and stop.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BINARY } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";
import { SCRIPT, SOURCE_BINARY, hostState, installedOnHost, missingTools, nsenter, rootSetup, run, tearDown, type Run } from "./throwaway-root.ts";

const VIGIL = process.env.VIGIL_BINARY ?? BINARY;
const SYSTEMD = ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"].find((path) => existsSync(path));
const GOSSIP_KEY = Buffer.alloc(32, 9).toString("base64");

/** The cgroup2 mount and this process's cgroup in it, or undefined. */
function cgroup2(): { mount: string; own: string } | undefined {
  const mount = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .find((f) => f[f.indexOf("-") + 1] === "cgroup2")?.[4];
  const own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
  return mount && own !== undefined ? { mount, own } : undefined;
}

const CGROUP = cgroup2();
const problem =
  missingTools("chroot", "dig") ??
  (!SYSTEMD ? "systemd is not installed" : null) ??
  // A second systemd inside a cgroup the host's systemd manages would be at odds with it.
  (existsSync("/run/systemd/system") ? "the host runs systemd itself; run this in a VM or container" : null) ??
  (!CGROUP ? "no cgroup2 file system is mounted" : null) ??
  (!existsSync(VIGIL) ? `${VIGIL} is missing: run \`npm run build\` first` : null) ??
  installedOnHost();
if (problem) console.warn(`systemd.test: skipped: ${problem}`);
const hostBefore = problem ? [] : hostState();

/** A booted throwaway root. */
class Booted {
  private constructor(
    private readonly holder: Subprocess<"ignore", "pipe", "pipe">,
    private readonly scratch: string,
    private readonly cgroup: string,
    private readonly init: number,
  ) {}

  static async boot(): Promise<Booted> {
    const scratch = mkdtempSync(join(tmpdir(), "vigil-systemd-"));
    const cgroup = join(CGROUP!.mount, CGROUP!.own, `vigil-systemd-test-${process.pid}-${Date.now()}`);
    mkdirSync(cgroup);
    const r = `${scratch}/root`;
    const script = [
      ...rootSetup(scratch, VIGIL),
      `touch ${r}/dev/console && mount --bind /dev/null ${r}/dev/console`,
      `mount -t sysfs -o ro sysfs ${r}/sys`,
      `mount -t cgroup2 cgroup2 ${r}/sys/fs/cgroup`,
      // Boot nothing but journald and what the tests start: no generators (fstab would mount the
      // host's disks), none of sysinit.target's usual units (sysctl, binfmt, modules, udev, ...).
      `rm -rf ${r}/usr/lib/systemd/system-generators ${r}/lib/systemd/system-generators ${r}/etc/systemd/system-generators`,
      `rm -rf ${r}/usr/lib/systemd/system/sysinit.target.wants ${r}/lib/systemd/system/sysinit.target.wants ${r}/etc/systemd/system/sysinit.target.wants`,
      `printf '[Unit]\\nDescription=vigil test boot\\nWants=systemd-journald.service\\n' > ${r}/etc/systemd/system/vigil-test.target`,
      `cd ${r}`,
      `exec chroot ${r} /usr/bin/env -i container=vigil-test ${SYSTEMD} --unit=vigil-test.target`,
    ].join("\n");
    // Into the test's cgroup first, so everything systemd makes sits under it; --kill-child takes the
    // booted system down with the holder.
    const unshare = "unshare --pid --fork --kill-child --mount --net --uts --ipc --cgroup --propagation private";
    const holder = Bun.spawn(["sh", "-c", `echo $$ > ${cgroup}/cgroup.procs && exec ${unshare} -- sh -ec "$0"`, script], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const children = `/proc/${holder.pid}/task/${holder.pid}/children`;
    let init = 0;
    try {
      init = await waitFor("systemd to start", () => {
        if (holder.exitCode !== null) throw new Error("the boot script stopped");
        const pid = existsSync(children) ? Number(readFileSync(children, "utf8").trim().split(" ")[0]) : 0;
        return pid > 0 && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "systemd" ? pid : undefined;
      });
      const booted = new Booted(holder, scratch, cgroup, init);
      await waitFor("the boot to finish", () => ["running", "degraded"].includes(booted.exec(["systemctl", "is-system-running"]).out), 20_000, 100);
      return booted;
    } catch (err) {
      const stderr = holder.exitCode !== null ? (await new Response(holder.stderr).text()).trim() : "";
      await new Booted(holder, scratch, cgroup, init).shutDown();
      throw new Error(`could not boot the throwaway root: ${err}${stderr ? `: ${stderr}` : ""}`);
    }
  }

  /** A command inside, as root: all its namespaces, its root and working directory. */
  exec(cmd: string[]): Run {
    return run(nsenter(this.init, ["--all", "--root", "--wd"], ["/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...cmd]));
  }

  sh(script: string): Run {
    return this.exec(["sh", "-ec", script]);
  }

  /** A path inside, reachable from the host through systemd's /proc entry. */
  path(inside: string): string {
    return `/proc/${this.init}/root${inside}`;
  }

  /** A unit's property, as `systemctl show` gives it. */
  property(unit: string, name: string): string {
    return this.exec(["systemctl", "show", "-p", name, "--value", unit]).out;
  }

  journal(unit: string): string {
    return this.exec(["journalctl", "-u", unit, "-o", "cat", "--no-pager"]).out;
  }

  /** The main process's credentials from /proc: ids, capability sets, no_new_privs, seccomp. */
  credentials(unit: string): Record<string, string> {
    // MainPID is a PID of the booted system's own PID namespace: read its /proc, not the host's.
    const status = readFileSync(this.path(`/proc/${this.property(unit, "MainPID")}/status`), "utf8");
    const keys = ["Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"];
    return Object.fromEntries(keys.map((key) => [key, new RegExp(`^${key}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim().replace(/\s+/g, " ") ?? ""]));
  }

  /** The A records vigil on 127.0.0.1:53 answers for name, "" when it does not answer. */
  dig(name: string): string {
    const r = this.exec(["dig", "+short", "+tries=1", "+time=2", "@127.0.0.1", name, "A"]);
    return r.code === 0 && /^[\d.\n]+$/.test(r.out) ? r.out : "";
  }

  async shutDown(): Promise<void> {
    tearDown(this.holder, this.scratch);
    // Everything systemd made in its cgroup namespace sits under our cgroup; empty once it is down.
    const remove = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(join(dir, entry.name));
      rmdirSync(dir);
    };
    await waitFor("the cgroups to empty", () => {
      remove(this.cgroup);
      return true;
    }, 5000, 50).catch((err) => console.warn(`systemd.test: ${err}`));
  }
}

const CAP_NET_BIND_SERVICE = 1n << 10n;
const CAP_NET_RAW = 1n << 13n;
const capHex = (caps: bigint) => caps.toString(16).padStart(16, "0");

/** A node on the booted system's own loopback; a script probe (run under the unit's sandbox) passes only `healthy`. */
const NODE_CONFIG = (healthy: string) => `mode: standalone
dns:
  listen_address: ["127.0.0.1:53"]
  zones: [gslb.test]
  nameservers: [{ name: ns1.gslb.test, addresses: [127.0.0.53] }]
services:
  - name: app
    health_check:
      type: script
      command: ["/bin/sh", "-c", 'test "$VIGIL_TARGET_ADDRESS" = ${healthy} || exit 2'] # 1 would be a warning, still up
      interval: 1s
      timeout: 900ms
      failure_threshold: 1
      success_threshold: 1
    backends: [{ address: ${healthy} }, { address: 192.0.2.99 }]
api:
  token: "\${API_TOKEN}"
logging: { format: json }
`;

describe.skipIf(problem !== null)("under systemd", () => {
  let box: Booted;
  let uid: string;
  beforeAll(async () => {
    box = await Booted.boot();
  }, 30_000);
  afterAll(async () => {
    await box?.shutDown();
  });

  test("install-agent.sh with systemd running installs, reloads systemd and enables vigil-agent.service", () => {
    const r = box.exec([SCRIPT, "--binary", SOURCE_BINARY]);
    expect(r.out).toContain("enabled vigil-agent.service");
    expect(r.code).toBe(0);
    expect(box.exec(["systemctl", "is-enabled", "vigil-agent.service"]).out).toBe("enabled");
    expect(box.property("vigil-agent.service", "LoadState")).toBe("loaded");
    uid = box.exec(["id", "-u", "vigil"]).out;
  });

  test("vigil-agent.service runs the agent as vigil with CAP_NET_RAW only, sandboxed; icmp probes use raw sockets", async () => {
    // Fill in what the installer left to the operator: the secrets, the overwatch, an icmp probe.
    const filled = box.sh(`
      printf 'GOSSIP_KEY=${GOSSIP_KEY}\\nMYAPP_TOKEN=token\\n' > /etc/vigil/vigil.env
      sed -i -e 's/10\\.0\\.1\\.5[345]:7946/127.0.0.1:7946/' -e 's/address: 10\\.0\\.2\\.10/address: 127.0.0.1/' \\
        -e 's/type: http/type: icmp/' -e '/path: \\/health/d' /etc/vigil/agent.yaml`);
    expect(filled.code).toBe(0);
    expect(box.exec(["systemctl", "start", "vigil-agent.service"])).toEqual({ code: 0, out: "" });
    await waitFor("the agent's first probe round", () => box.journal("vigil-agent.service").includes("ready: first probe round done"));
    expect(box.journal("vigil-agent.service")).toContain("icmp: raw socket (CAP_NET_RAW)");
    const caps = capHex(CAP_NET_RAW);
    expect(box.credentials("vigil-agent.service")).toEqual({
      Uid: `${uid} ${uid} ${uid} ${uid}`,
      Gid: expect.any(String),
      CapInh: caps,
      CapPrm: caps,
      CapEff: caps,
      CapBnd: caps,
      CapAmb: caps,
      NoNewPrivs: "1",
      Seccomp: "2",
    });
  }, 20_000);

  test("install-agent.sh again: changes nothing, and leaves the running agent alone", () => {
    const pid = box.property("vigil-agent.service", "MainPID");
    const r = box.exec([SCRIPT, "--binary", SOURCE_BINARY]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/install-agent: (created|installed|corrected|enabled|restarted) /);
    expect(box.property("vigil-agent.service", "MainPID")).toBe(pid);
  });

  test("vigil.service answers DNS on port 53 as vigil, with CAP_NET_BIND_SERVICE and CAP_NET_RAW only, and runs script probes", async () => {
    writeFileSync(box.path("/etc/vigil/vigil.yaml"), NODE_CONFIG("192.0.2.10"));
    const setUp = box.sh(`
      install -m 0644 /srv/vigil-appliance/systemd/vigil.service /etc/systemd/system/vigil.service
      chown root:vigil /etc/vigil/vigil.yaml && chmod 0640 /etc/vigil/vigil.yaml
      echo API_TOKEN=secret >> /etc/vigil/vigil.env
      systemctl daemon-reload`);
    expect(setUp.code).toBe(0);
    expect(box.exec(["systemctl", "start", "vigil.service"])).toEqual({ code: 0, out: "" });
    // Only the backend its script probe passes: the probes run, as child processes, under the sandbox.
    expect(await waitFor("the healthy backend alone", () => box.dig("app.gslb.test") === "192.0.2.10")).toBe(true);
    const caps = capHex(CAP_NET_BIND_SERVICE | CAP_NET_RAW);
    expect(box.credentials("vigil.service")).toMatchObject({ Uid: `${uid} ${uid} ${uid} ${uid}`, CapEff: caps, CapBnd: caps, CapAmb: caps, NoNewPrivs: "1", Seccomp: "2" });
  }, 20_000);

  test("systemctl reload: a valid change is served; an invalid one fails the reload and the old config keeps serving", async () => {
    writeFileSync(box.path("/etc/vigil/vigil.yaml"), NODE_CONFIG("192.0.2.20"));
    expect(box.exec(["systemctl", "reload", "vigil.service"]).code).toBe(0);
    expect(await waitFor("the new answer", () => box.dig("app.gslb.test") === "192.0.2.20")).toBe(true);

    writeFileSync(box.path("/etc/vigil/vigil.yaml"), `${NODE_CONFIG("192.0.2.30")}servces: []\n`);
    const refused = box.exec(["systemctl", "reload", "vigil.service"]);
    expect(refused.code).not.toBe(0);
    expect(box.journal("vigil.service")).toContain("servces (line 19): unknown key");
    expect(box.property("vigil.service", "ActiveState")).toBe("active");
    expect(box.dig("app.gslb.test")).toBe("192.0.2.20");
  }, 20_000);

  test("Restart=on-failure: a killed vigil comes back and answers again", async () => {
    writeFileSync(box.path("/etc/vigil/vigil.yaml"), NODE_CONFIG("192.0.2.20"));
    const pid = box.property("vigil.service", "MainPID");
    expect(box.exec(["kill", "-KILL", pid]).code).toBe(0);
    await waitFor("the restart", () => box.property("vigil.service", "NRestarts") === "1" && box.property("vigil.service", "ActiveState") === "active", 15_000, 100);
    expect(box.property("vigil.service", "MainPID")).not.toBe(pid);
    expect(await waitFor("the healthy backend alone", () => box.dig("app.gslb.test") === "192.0.2.20")).toBe(true);
  }, 20_000);

  test("systemctl stop: a clean stop, well inside TimeoutStopSec", () => {
    const started = Date.now();
    expect(box.exec(["systemctl", "stop", "vigil.service"]).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(box.property("vigil.service", "Result")).toBe("success");
    expect(box.journal("vigil.service")).toContain('"msg":"vigil stopped"');
  });

  test("a config check that fails keeps it from starting, with the reason in the journal", () => {
    const starts = () => box.journal("vigil.service").split('"msg":"vigil started"').length;
    const before = starts();
    expect(box.sh("sed -i 's/^API_TOKEN=.*/API_TOKEN=/' /etc/vigil/vigil.env").code).toBe(0);
    expect(box.exec(["systemctl", "start", "vigil.service"]).code).not.toBe(0);
    expect(box.journal("vigil.service")).toMatch(/api\.token \(line \d+\): expected a non-empty string/);
    expect(box.property("vigil.service", "Result")).toBe("exit-code");
    expect(starts()).toBe(before); // vigil itself never ran
    expect(box.exec(["systemctl", "stop", "vigil.service"]).code).toBe(0); // no more retries
  });
});

test.skipIf(problem !== null)("the host's own files, and its ping sysctl, are as they were before", () => {
  expect(hostState()).toEqual(hostBefore);
});
