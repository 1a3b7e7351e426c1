// A network namespace joined to this host by a veth pair, for tests that need a second host whose
// link can be cut. Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking, never routed) and, with
// IPv6, 2001:db8::/32 (documentation); an "unreachable" route for each prefix goes in first and out
// last, so no packet can leave by the default route even while the veth's own route is gone.

export const IS_ROOT = process.geteuid?.() === 0;

export function sh(...cmd: string[]): { ok: boolean; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

export class VethNamespace {
  readonly name: string;
  /** The host's end and its address; the namespace's end and its address (a /30 between them). */
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostAddress: string;
  readonly nsAddress: string;
  /** With IPv6: a /64 on the same link. */
  readonly hostAddress6: string;
  readonly nsAddress6: string;
  private readonly net: string;
  private readonly net6: string;

  constructor(prefix: string, private readonly ipv6 = false) {
    const tag = crypto.getRandomValues(new Uint8Array(3));
    const hex = Array.from(tag, (b) => b.toString(16).padStart(2, "0")).join("");
    this.name = `${prefix}-${hex}`;
    this.hostIf = `vn${hex}h`;
    this.nsIf = `vn${hex}n`;
    const base = [198, 18 + (tag[0]! & 1), tag[1]!, (tag[2]! & 0x3f) * 4];
    this.net = base.join(".");
    this.hostAddress = [...base.slice(0, 3), base[3]! + 1].join(".");
    this.nsAddress = [...base.slice(0, 3), base[3]! + 2].join(".");
    this.net6 = `2001:db8:${tag[0]!.toString(16)}${tag[1]!.toString(16).padStart(2, "0")}:${tag[2]!.toString(16)}::`;
    this.hostAddress6 = `${this.net6}1`;
    this.nsAddress6 = `${this.net6}2`;
  }

  /** Builds it; returns why it could not be built (and leaves nothing behind), or null. */
  create(): string | null {
    if (!IS_ROOT) return "not root: cannot create a network namespace";
    if (!Bun.which("ip")) return "the ip command (iproute2) is not installed";
    const v6 = (...steps: string[][]) => (this.ipv6 ? steps : []);
    const steps: string[][] = [
      ["ip", "netns", "add", this.name],
      ["ip", "route", "add", "unreachable", `${this.net}/30`, "metric", "4000"],
      ...v6(["ip", "-6", "route", "add", "unreachable", `${this.net6}/64`, "metric", "4000"]),
      ["ip", "link", "add", this.hostIf, "type", "veth", "peer", "name", this.nsIf],
      ["ip", "link", "set", this.nsIf, "netns", this.name],
      ["ip", "addr", "add", `${this.hostAddress}/30`, "dev", this.hostIf],
      ...v6(["ip", "addr", "add", `${this.hostAddress6}/64`, "dev", this.hostIf, "nodad"]),
      ["ip", "link", "set", this.hostIf, "up"],
      // Keep the namespace's IPv6 address while its link is down, so "up again" needs no re-adding.
      ...v6(["ip", "netns", "exec", this.name, "sysctl", "-qw", `net.ipv6.conf.${this.nsIf}.keep_addr_on_down=1`]),
      ["ip", "-n", this.name, "addr", "add", `${this.nsAddress}/30`, "dev", this.nsIf],
      ...v6(["ip", "-n", this.name, "addr", "add", `${this.nsAddress6}/64`, "dev", this.nsIf, "nodad"]),
      ["ip", "-n", this.name, "link", "set", "lo", "up"],
      ["ip", "-n", this.name, "link", "set", this.nsIf, "up"],
    ];
    for (const step of steps) {
      const r = sh(...step);
      if (!r.ok) {
        this.destroy();
        return `\`${step.join(" ")}\` failed: ${r.out}`;
      }
    }
    return null;
  }

  destroy(): void {
    sh("ip", "netns", "del", this.name); // takes the veth pair with it
    sh("ip", "link", "del", this.hostIf);
    sh("ip", "route", "del", "unreachable", `${this.net}/30`, "metric", "4000");
    if (this.ipv6) sh("ip", "-6", "route", "del", "unreachable", `${this.net6}/64`, "metric", "4000");
  }

  /** One end of the link, the host's unless told: down cuts the namespace off from everything. */
  setLink(state: "up" | "down", end: "host" | "ns" = "host"): void {
    const r = end === "host" ? sh("ip", "link", "set", this.hostIf, state) : sh("ip", "-n", this.name, "link", "set", this.nsIf, state);
    if (!r.ok) throw new Error(`ip link set ${end} end ${state}: ${r.out}`);
  }

  /** A command run inside the namespace. */
  exec(cmd: string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...cmd];
  }

  /** Refuses to go on unless the kernel sends to this address (the namespace's, by default) through our veth. */
  assertRouted(address = this.nsAddress): void {
    const r = sh("ip", ...(address.includes(":") ? ["-6"] : []), "route", "get", address);
    if (!r.ok || !r.out.includes(`dev ${this.hostIf}`)) throw new Error(`${address} is not routed via ${this.hostIf}: ${r.out}`);
  }
}
