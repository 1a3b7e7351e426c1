// A root file system to install vigil into, as root, without touching the host: an overlay whose lower
// layer is the host's / (read, never written) and whose upper layer is a tmpfs, built by a shell
// script that runs inside fresh mount and network namespaces (unshare), so its mounts exist nowhere
// else. The overlay's mount point does not exist on the host at all: a command that somehow ran
// outside the namespaces could not even find the root to chroot into. Inside: its own /proc (with
// /proc/sys read-only but for the namespace's own net.*), a /dev with only the harmless devices, empty
// /run and /tmp (no host systemd, no host D-Bus), and read-only views of appliance/ and the binary.

import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";

export const APPLIANCE = resolve(import.meta.dir, "../../appliance");
/** Where a root shows appliance/ and the binary under test. */
export const SCRIPT = "/srv/vigil-appliance/install-agent.sh";
export const SOURCE_BINARY = "/srv/vigil-bin/vigil";
export const IS_ROOT = process.geteuid?.() === 0;

export const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

// What an installed vigil has on a host: the tests look at the host's own copies before and after.
const VIGIL_PATHS = ["/etc/vigil", "/var/lib/vigil", "/usr/local/bin/vigil", "/etc/systemd/system/vigil-agent.service", "/etc/sysctl.d/60-vigil-ping.conf"];
const HOST_WATCH = ["/etc/passwd", "/etc/group", "/etc/shadow", ...VIGIL_PATHS, "/proc/sys/net/ipv4/ping_group_range"];

/** The host's files an install would touch (and its ping sysctl): mode, owner and content of each. */
export function hostState(): string[] {
  return HOST_WATCH.map((path) => {
    if (!existsSync(path)) return `${path}: absent`;
    const s = lstatSync(path);
    return `${path}: ${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.isFile() ? sha256File(path) : "dir"}`;
  });
}

/** A throwaway root starts from the host's files, so one of a host with vigil installed would start half-installed. */
export function installedOnHost(): string | null {
  const found = VIGIL_PATHS.filter((path) => existsSync(path));
  if (/^vigil:/m.test(readFileSync("/etc/passwd", "utf8"))) found.push("user vigil");
  return found.length > 0 ? `vigil is installed on this host (${found.join(", ")})` : null;
}

export interface Run {
  code: number;
  /** stdout then stderr, trimmed. */
  out: string;
}

export function run(cmd: string[]): Run {
  const r = Bun.spawnSync(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

/** Why these tests cannot run here, or null. */
export function missingTools(...tools: string[]): string | null {
  if (!IS_ROOT) return "not root";
  const missing = ["unshare", "nsenter", "findmnt", "ip", ...tools].filter((tool) => !Bun.which(tool));
  return missing.length ? `not installed: ${missing.join(", ")}` : null;
}

/**
 * Shell lines that mount the root at SCRATCH/root, for a script already inside its own mount and
 * network namespaces (and PID namespace, when /proc should show only its processes).
 */
export function rootSetup(scratch: string, binary: string): string[] {
  const r = `${scratch}/root`;
  return [
    `mount -t tmpfs -o mode=0700 vigil-sandbox ${scratch}`,
    `mkdir ${scratch}/upper ${scratch}/work ${r}`,
    `mount -t overlay overlay -o lowerdir=/,upperdir=${scratch}/upper,workdir=${scratch}/work ${r}`,
    `test "$(findmnt -n -o FSTYPE --mountpoint ${r})" = overlay`,
    `mount -t proc proc ${r}/proc`,
    `mount --bind -o ro ${r}/proc/sys ${r}/proc/sys`,
    `mount --bind ${r}/proc/sys/net ${r}/proc/sys/net`,
    `mount -o remount,bind,rw ${r}/proc/sys/net`,
    `[ ! -e ${r}/proc/sysrq-trigger ] || mount --bind -o ro ${r}/proc/sysrq-trigger ${r}/proc/sysrq-trigger`,
    `mount -t tmpfs -o mode=0755 vigil-dev ${r}/dev`,
    `for d in null zero full random urandom tty; do touch ${r}/dev/$d; mount --bind /dev/$d ${r}/dev/$d; done`,
    `mkdir ${r}/dev/pts ${r}/dev/shm`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts ${r}/dev/pts`,
    `ln -s pts/ptmx ${r}/dev/ptmx`,
    `mount -t tmpfs tmpfs ${r}/dev/shm`,
    `mount -t tmpfs tmpfs ${r}/run`,
    `mount -t tmpfs tmpfs ${r}/tmp`,
    `mkdir -p ${r}/srv/vigil-appliance ${r}/srv/vigil-bin`,
    `touch ${r}${SOURCE_BINARY}`,
    `mount --bind -o ro ${APPLIANCE} ${r}/srv/vigil-appliance`,
    `mount --bind -o ro ${binary} ${r}${SOURCE_BINARY}`,
    "ip link set lo up",
  ];
}

/** The mount and network namespaces of a process, or undefined when it is gone. */
function namespacesOf(pid: number | "self"): string | undefined {
  try {
    return ["mnt", "net"].map((kind) => readlinkSync(`/proc/${pid}/ns/${kind}`)).join(" ");
  } catch {
    return undefined;
  }
}

/** True when pid runs in mount and network namespaces, both other than this process's. */
function apart(pid: number): boolean {
  const theirs = namespacesOf(pid)?.split(" ");
  const ours = namespacesOf("self")!.split(" ");
  return theirs !== undefined && theirs.every((ns, i) => ns !== ours[i]);
}

/** argv that runs cmd in pid's namespaces (flags say which); refuses unless they are not this process's. */
export function nsenter(pid: number, flags: string[], cmd: string[]): string[] {
  if (!apart(pid)) throw new Error(`refusing to run ${cmd.join(" ")}: process ${pid} is not in namespaces of its own`);
  return ["nsenter", "-t", String(pid), ...flags, "--", ...cmd];
}

/** Kills the process that holds the namespaces (their mounts go with it) and removes the scratch dir. */
export function tearDown(holder: Subprocess, scratch: string): void {
  holder.kill("SIGKILL");
  try {
    rmSync(scratch, { recursive: true, force: true });
  } catch (err) {
    console.warn(`could not remove ${scratch}: ${err}`);
  }
}
