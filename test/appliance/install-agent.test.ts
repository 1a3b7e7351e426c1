// appliance/install-agent.sh, run as root in a throwaway root (throwaway-root.ts), never on the host:
// the script runs chrooted into an overlay of the host's / whose upper layer is a tmpfs inside private
// mount and network namespaces. Every file it writes lands in that tmpfs, so the upper layer is
// exactly the list of what it changed, and its sysctl lands in the namespace's own network stack.
// The host's own files are compared before and after, too.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BINARY } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";
import { APPLIANCE, SCRIPT, SOURCE_BINARY, hostState, installedOnHost, missingTools, nsenter, rootSetup, run, sha256File, tearDown, type Run } from "./throwaway-root.ts";

// The binary under test: dist/vigil, or another build (a release binary, say).
const VIGIL = process.env.VIGIL_BINARY ?? BINARY;
const PATH_INSIDE = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";


/** A throwaway root, held by a process that sleeps in its namespaces once the mounts are made. */
class Sandbox {
  private constructor(
    private readonly holder: Subprocess<"ignore", "pipe", "pipe">,
    private readonly scratch: string,
  ) {}

  /** The sandbox, or why it could not be made (nothing is left behind then). */
  static async create(): Promise<Sandbox | string> {
    const scratch = mkdtempSync(join(tmpdir(), "vigil-install-"));
    // The mounts are made by the script unshare runs, so they can only ever be in the new namespaces.
    const script = [...rootSetup(scratch, VIGIL), "echo ready", "exec sleep 3600"].join("\n");
    const holder = Bun.spawn(["unshare", "--mount", "--net", "--propagation", "private", "--", "sh", "-ec", script], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const box = new Sandbox(holder, scratch);
    const { value } = await holder.stdout.getReader().read();
    if (new TextDecoder().decode(value ?? new Uint8Array()).trim() !== "ready") {
      const stderr = (await new Response(holder.stderr).text()).trim();
      box.destroy();
      return `could not build the throwaway root: ${stderr || "its script stopped"}`;
    }
    return box;
  }

  /** The overlay, as a path inside the namespaces. */
  get root(): string {
    return join(this.scratch, "root");
  }

  /** A path of the throwaway root, reachable from the host through the holder's /proc entry. */
  path(inside: string): string {
    return `/proc/${this.holder.pid}/root${this.root}${inside}`;
  }

  /** What the runs changed: the overlay's upper layer, seen from the host. */
  get upper(): string {
    return `/proc/${this.holder.pid}/root${this.scratch}/upper`;
  }

  /** A command in the namespaces, with the host's file system view (mounts and all). */
  inNamespace(cmd: string[]): Run {
    return run(nsenter(this.holder.pid, ["--mount", "--net"], cmd));
  }

  /** argv that runs cmd in the namespaces' network only (the host's files, the sandbox's loopback). */
  inNetwork(cmd: string[]): string[] {
    return nsenter(this.holder.pid, ["--net"], cmd);
  }

  /** A command chrooted into the throwaway root, with a clean environment. */
  run(cmd: string[]): Run {
    return this.inNamespace(["env", "-i", PATH_INSIDE, "chroot", this.root, ...cmd]);
  }

  install(...args: string[]): Run {
    return this.run([SCRIPT, ...args]);
  }

  destroy(): void {
    tearDown(this.holder, this.scratch);
  }
}

/** Every entry of the upper layer (bar our own mount points in /srv): type, mode, owner, times, content. */
function manifest(box: Sandbox): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      if (relPath === "srv") continue;
      const s = lstatSync(path, { bigint: true });
      const content = s.isFile() ? sha256File(path) : s.isDirectory() ? "dir" : "other";
      // ctime moves on any chmod or chown, even to the same values; mtime on any write.
      entries.set(relPath, `${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.size} m${s.mtimeNs} c${s.ctimeNs} ${content}`);
      if (s.isDirectory()) walk(path, relPath);
    }
  };
  walk(box.upper, "");
  return entries;
}

const filesIn = (m: Map<string, string>) => [...m].filter(([, v]) => !v.endsWith(" dir")).map(([k]) => k).sort();

/** The files a first run writes, and nothing else (the passwd family is useradd's, with its backups and lock). */
const EXPECTED_FILES = [
  "etc/sysctl.d/60-vigil-ping.conf",
  "etc/systemd/system/vigil-agent.service",
  "etc/vigil/agent.yaml",
  "etc/vigil/vigil.env",
  "usr/local/bin/vigil",
  "var/lib/vigil/agent-identity.json",
];
const USER_DATABASE = /^etc\/(\.pwd\.lock|(passwd|group|shadow|gshadow)-?)$/;

/** name → [uid, gid, home, shell] or [gid] from the sandbox's passwd and group files. */
function accounts(box: Sandbox, file: "passwd" | "group"): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(box.path(`/etc/${file}`), "utf8").split("\n").filter(Boolean)) {
    const f = line.split(":");
    map.set(f[0]!, file === "passwd" ? [f[2]!, f[3]!, f[5]!, f[6]!] : [f[2]!]);
  }
  return map;
}

function owned(box: Sandbox, path: string): { mode: number; uid: number; gid: number } {
  const s = lstatSync(box.path(path));
  return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
}

const agentIdIn = (out: string) => /agent id ([0-9a-f-]{36})/.exec(out)?.[1];

const unusable =
  missingTools("chroot", "setpriv") ??
  (!existsSync(VIGIL) ? `${VIGIL} is missing: run \`npm run build\` first` : null) ??
  installedOnHost();
const hostBefore = unusable ? [] : hostState();
const probe = unusable ?? (await Sandbox.create());
const problem = typeof probe === "string" ? probe : null;
if (typeof probe !== "string") probe.destroy();
if (problem) console.warn(`install-agent.test: skipped: ${problem}`);

const boxes: Sandbox[] = [];
async function sandbox(): Promise<Sandbox> {
  const box = await Sandbox.create();
  if (typeof box === "string") throw new Error(box);
  boxes.push(box);
  return box;
}
afterAll(() => {
  for (const box of boxes) box.destroy();
});

describe.skipIf(problem !== null)("install-agent.sh, in a throwaway root", () => {
  const sourceSha = problem ? "" : sha256File(VIGIL);
  let box: Sandbox;
  let first: Run;
  beforeAll(async () => {
    box = await sandbox();
    first = box.install("--binary", SOURCE_BINARY, "--sha256", sourceSha.toUpperCase());
  });

  test("the binary under test has the agent-id command the installer needs", () => {
    const r = Bun.spawnSync([VIGIL, "agent-id", "--help"], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).not.toContain("unknown command");
    expect(r.exitCode).toBe(0);
  });

  test("first run: creates the vigil system user and group", () => {
    expect(first.out).toContain("created user vigil");
    expect(first.code).toBe(0);
    const user = accounts(box, "passwd").get("vigil");
    const group = accounts(box, "group").get("vigil");
    expect(user).toBeDefined();
    expect(group).toBeDefined();
    const [uid, gid, home, shell] = user!;
    expect(Number(uid)).toBeLessThan(1000); // a system account
    expect(gid).toBe(group![0]);
    expect(home).toBe("/var/lib/vigil");
    expect(shell).toEndWith("/nologin");
  });

  test("first run: directories, files, owners and modes", () => {
    const [uid, gid] = accounts(box, "passwd").get("vigil")!.map(Number);
    const root = { uid: 0, gid: 0 };
    expect(owned(box, "/etc/vigil")).toEqual({ mode: 0o750, uid: 0, gid: gid! });
    expect(owned(box, "/var/lib/vigil")).toEqual({ mode: 0o700, uid: uid!, gid: gid! });
    expect(owned(box, "/etc/vigil/agent.yaml")).toEqual({ mode: 0o640, uid: 0, gid: gid! });
    expect(owned(box, "/etc/vigil/vigil.env")).toEqual({ mode: 0o600, ...root });
    expect(owned(box, "/usr/local/bin/vigil")).toEqual({ mode: 0o755, ...root });
    expect(owned(box, "/etc/systemd/system/vigil-agent.service")).toEqual({ mode: 0o644, ...root });
    expect(owned(box, "/etc/sysctl.d/60-vigil-ping.conf")).toEqual({ mode: 0o644, ...root });
    expect(owned(box, "/var/lib/vigil/agent-identity.json")).toEqual({ mode: 0o600, uid: uid!, gid: gid! });
    const same = (installed: string, source: string) => expect(sha256File(box.path(installed))).toBe(sha256File(join(APPLIANCE, source)));
    same("/etc/vigil/agent.yaml", "etc/vigil/agent.yaml");
    same("/etc/vigil/vigil.env", "etc/vigil/vigil.env.example");
    same("/etc/systemd/system/vigil-agent.service", "systemd/vigil-agent.service");
    same("/etc/sysctl.d/60-vigil-ping.conf", "sysctl/60-vigil-ping.conf");
    expect(sha256File(box.path("/usr/local/bin/vigil"))).toBe(sourceSha);
  });

  test("first run: makes the agent identity and prints its id", () => {
    const identity = JSON.parse(readFileSync(box.path("/var/lib/vigil/agent-identity.json"), "utf8"));
    expect(agentIdIn(first.out)).toBe(identity.agent_id);
  });

  test("first run: applies the ping sysctl (in the namespace's network stack)", () => {
    const r = box.inNamespace(["cat", "/proc/sys/net/ipv4/ping_group_range"]);
    expect(r.out.split(/\s+/)).toEqual(["0", "2147483647"]);
  });

  test("first run: without a running systemd, installs the unit but enables nothing", () => {
    expect(first.out).toContain("systemd is not running here");
    expect(existsSync(box.path("/etc/systemd/system/multi-user.target.wants/vigil-agent.service"))).toBe(false);
  });

  test("first run writes those files and nothing else", () => {
    const unexpected = filesIn(manifest(box)).filter((file) => !EXPECTED_FILES.includes(file) && !USER_DATABASE.test(file));
    expect(unexpected).toEqual([]);
    expect(filesIn(manifest(box)).filter((file) => EXPECTED_FILES.includes(file))).toEqual(EXPECTED_FILES);
  });

  test("a second run changes nothing: not a byte, mode, owner or time", () => {
    const before = manifest(box);
    const again = box.install("--binary", SOURCE_BINARY);
    expect(again.code).toBe(0);
    expect(manifest(box)).toEqual(before);
    expect(agentIdIn(again.out)).toBe(agentIdIn(first.out));
    expect(again.out).toContain("kept /etc/vigil/agent.yaml (exists)");
    expect(again.out).not.toMatch(/install-agent: (created|installed|corrected) /);
  });

  test("a run without --binary uses the installed one, and changes nothing either", () => {
    const before = manifest(box);
    expect(box.install().code).toBe(0);
    expect(manifest(box)).toEqual(before);
  });

  test("the operator's agent.yaml and vigil.env are never overwritten", () => {
    const yaml = "# mine\nmode: agent\n";
    const env = "GOSSIP_KEY=mine\n";
    writeFileSync(box.path("/etc/vigil/agent.yaml"), yaml);
    writeFileSync(box.path("/etc/vigil/vigil.env"), env);
    expect(box.install("--binary", SOURCE_BINARY).code).toBe(0);
    expect(readFileSync(box.path("/etc/vigil/agent.yaml"), "utf8")).toBe(yaml);
    expect(readFileSync(box.path("/etc/vigil/vigil.env"), "utf8")).toBe(env);
  });

  test("a directory with the wrong mode or owner is put right", () => {
    expect(box.run(["chmod", "0755", "/var/lib/vigil"]).code).toBe(0);
    expect(box.run(["chown", "root:root", "/etc/vigil"]).code).toBe(0);
    const r = box.install();
    expect(r.code).toBe(0);
    expect(r.out).toContain("corrected /var/lib/vigil to 0700 vigil:vigil");
    expect(r.out).toContain("corrected /etc/vigil to 0750 root:vigil");
    const [, gid] = accounts(box, "passwd").get("vigil")!.map(Number);
    expect(owned(box, "/var/lib/vigil").mode).toBe(0o700);
    expect(owned(box, "/etc/vigil")).toEqual({ mode: 0o750, uid: 0, gid: gid! });
  });
});

describe.skipIf(problem !== null)("install-agent.sh refuses bad input, and changes nothing", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
  });

  test.each([
    [["--binary", SOURCE_BINARY, "--sha256", "0".repeat(64)], 1, `has SHA256 `, "not 0000"],
    [["--binary", SOURCE_BINARY, "--sha256", "abc"], 2, `--sha256 must be 64 hex digits, got "abc"`, ""],
    [["--sha256", "0".repeat(64)], 2, "--sha256 checks a --binary: give both", ""],
    [["--binary", "http://127.0.0.1:1/vigil"], 2, "--sha256 is required with a URL", ""],
    [["--binary", "/srv/nowhere/vigil"], 1, "--binary /srv/nowhere/vigil: no such file", ""],
    [[], 2, "no --binary given and /usr/local/bin/vigil is not installed", ""],
    [["--bianry", SOURCE_BINARY], 2, 'unexpected argument "--bianry"', ""],
    [["--binary", "/bin/false"], 1, "/bin/false does not run here, or is too old for this installer (`vigil agent-id --help` failed): nothing installed", ""],
  ])("%j: exit %d, says why", (args, code, reason, more) => {
    const r = box.install(...args);
    expect(r.out).toContain(reason);
    expect(r.out).toContain(more);
    expect(r.code).toBe(code);
    expect(filesIn(manifest(box))).toEqual([]);
  });

  test("not root: refused before anything is done", () => {
    const r = box.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SCRIPT, "--binary", SOURCE_BINARY]);
    expect(r.out).toContain("run as root");
    expect(r.code).toBe(1);
    expect(filesIn(manifest(box))).toEqual([]);
  });
});

describe.skipIf(problem !== null)("install-agent.sh with a URL", () => {
  let box: Sandbox;
  let server: Subprocess<"ignore", "pipe", "pipe">;
  let url: string;
  beforeAll(async () => {
    box = await sandbox();
    // A file server on the namespace's loopback (it has its own), serving the binary under test.
    const serve = `const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => new URL(r.url).pathname === "/vigil" ? new Response(Bun.file(${JSON.stringify(VIGIL)})) : new Response("no", { status: 404 }) }); console.log(s.port);`;
    server = Bun.spawn(box.inNetwork([process.execPath, "-e", serve]), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const reader = server.stdout.getReader();
    const port = await waitFor("the file server's port", async () => {
      const { value } = await reader.read();
      return value ? new TextDecoder().decode(value).trim() : undefined;
    });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server?.kill());

  test("a wrong SHA256 installs nothing", () => {
    const r = box.install("--binary", `${url}/vigil`, "--sha256", "f".repeat(64));
    expect(r.out).toContain(`${url}/vigil has SHA256 ${sha256File(VIGIL)}, not ${"f".repeat(64)}: nothing installed`);
    expect(r.code).toBe(1);
    expect(filesIn(manifest(box))).toEqual([]);
  });

  test("a download that fails installs nothing", () => {
    const r = box.install("--binary", `${url}/missing`, "--sha256", "f".repeat(64));
    expect(r.out).toContain(`cannot download ${url}/missing`);
    expect(r.code).toBe(1);
    expect(filesIn(manifest(box))).toEqual([]);
  });

  test("downloads, checks and installs the binary", () => {
    const r = box.install("--binary", `${url}/vigil`, "--sha256", sha256File(VIGIL));
    expect(r.code).toBe(0);
    expect(sha256File(box.path("/usr/local/bin/vigil"))).toBe(sha256File(VIGIL));
    expect(agentIdIn(r.out)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

test.skipIf(problem !== null)("the host's own files, and its ping sysctl, are as they were before", () => {
  expect(hostState()).toEqual(hostBefore);
});
