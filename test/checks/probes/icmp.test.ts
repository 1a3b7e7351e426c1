// The ICMP echo probe: real sockets against loopback and against a veth pair into a network
// namespace this file creates (so "down" is a real silent host), plus a fake socket for the
// matching rules that real traffic cannot provoke on demand (stray replies, full buffers, wrap).
//
// Traffic stays on this machine: loopback, and a /30 from 198.18.0.0/15 (RFC 2544, reserved for
// benchmarking, never routed) plus a /64 from 2001:db8::/32 on the veth pair. An "unreachable"
// route for both prefixes is added first and removed last, so nothing can ever leave by the default
// route, even if the veth's own route goes away.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { HealthCheckConfig } from "../../../src/config/types.ts";
import type { ProbeResult, ProbeTarget } from "../../../src/checks/types.ts";
import {
  createIcmpProber,
  describeIcmpMode,
  ICMP_UNAVAILABLE_DETAIL,
  type IcmpDatagram,
  type IcmpFamily,
  type IcmpProber,
  type IcmpSocket,
  type IcmpSocketKind,
  type OpenResult,
} from "../../../src/checks/probes/icmp.ts";
import { EAGAIN, internetChecksum } from "../../../src/checks/probes/icmp-socket.ts";
import { IS_ROOT, sh, VethNamespace } from "../../helpers/netns.ts";

/** IPv6 is compiled in and enabled (the kernel lists its addresses here). */
const HAS_IPV6 = existsSync("/proc/net/if_inet6");
const FAMILIES = HAS_IPV6 ? 2 : 1;

function target(address: string, timeout = 1000): ProbeTarget {
  const check: HealthCheckConfig = { type: "icmp", interval: timeout * 2, timeout, failure_threshold: 1, success_threshold: 1 };
  return { key: `icmp:${address}`, check, address, port: 0 };
}

function run(prober: IcmpProber, address: string, timeout = 1000): Promise<ProbeResult> {
  return prober.probe(target(address, timeout), AbortSignal.timeout(timeout));
}

// ---------------------------------------------------------------------------------------------
// The unprivileged datagram socket: the kernel checks net.ipv4.ping_group_range only when the
// socket is created, so the range is widened to our gid for that one call and restored at once.

const PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range";

function createDatagramProber(): { prober: IcmpProber; note: string } {
  const gid = process.getgid?.() ?? 0;
  let saved: string | null = null;
  let note = "";
  try {
    const current = readFileSync(PING_GROUP_RANGE, "utf8");
    const [low, high] = current.trim().split(/\s+/).map(Number);
    if (!(low! <= gid && gid <= high!)) {
      writeFileSync(PING_GROUP_RANGE, `${gid} ${gid}`);
      saved = current;
    }
  } catch (err) {
    note = `cannot widen ${PING_GROUP_RANGE}: ${(err as Error).message}`;
  }
  try {
    return { prober: createIcmpProber({ mode: "datagram" }), note };
  } finally {
    if (saved !== null) writeFileSync(PING_GROUP_RANGE, saved);
  }
}

// ---------------------------------------------------------------------------------------------
// A network namespace with one end of a veth pair in it. Set up here, at load time, so the tests
// can be skipped (with the reason) when it cannot be built.

const ns = new VethNamespace("vigil-icmp", true);
const [V4_HOST, V4_NS, V6_NS, HOST_IF] = [ns.hostAddress, ns.nsAddress, ns.nsAddress6, ns.hostIf];
/** The namespace end's link, down (a host that stopped answering) or up. */
const setNamespaceLink = (state: "up" | "down") => ns.setLink(state, "ns");
const assertLocalRoute = (address: string) => ns.assertRouted(address);

const namespaceProblem = ns.create();
if (namespaceProblem) console.warn(`icmp.test: network namespace tests skipped: ${namespaceProblem}`);

// ---------------------------------------------------------------------------------------------

const probers: IcmpProber[] = [];
const raw = createIcmpProber();
probers.push(raw);
const datagram = IS_ROOT ? createDatagramProber() : null;
if (datagram) probers.push(datagram.prober);
const datagramProblem = !datagram
  ? "not root: cannot widen net.ipv4.ping_group_range"
  : datagram.prober.mode !== "datagram"
    ? `datagram socket could not be opened (${datagram.note || datagram.prober.describe()})`
    : null;
if (datagramProblem) console.warn(`icmp.test: datagram-socket tests skipped: ${datagramProblem}`);

afterAll(() => {
  for (const prober of probers) prober.close();
  if (!namespaceProblem) ns.destroy();
});

const byMode = () => [
  { name: "raw", prober: raw, skip: !IS_ROOT },
  { name: "datagram", prober: datagram?.prober ?? raw, skip: datagramProblem !== null },
];

describe("mode", () => {
  test.skipIf(!IS_ROOT)("as root the prober uses raw sockets, for IPv4 and IPv6, and says so", () => {
    expect(raw.mode).toBe("raw");
    expect(raw.modes.ipv4).toBe("raw");
    expect(raw.describe()).toStartWith("icmp: raw socket (root); icmpv6: ");
    if (HAS_IPV6) expect(raw.modes.ipv6).toBe("raw");
  });

  test.skipIf(datagramProblem !== null)("mode: datagram opens the unprivileged ping sockets", () => {
    expect(datagram!.prober.mode).toBe("datagram");
    if (HAS_IPV6) expect(datagram!.prober.modes.ipv6).toBe("datagram");
    expect(datagram!.prober.describe()).toContain("icmp: unprivileged datagram socket (net.ipv4.ping_group_range)");
  });

  test("describeIcmpMode names each mode for the log", () => {
    expect(describeIcmpMode("raw")).toMatch(/^icmp: raw socket \((root|CAP_NET_RAW)\)$/);
    expect(describeIcmpMode("datagram", 6)).toBe("icmpv6: unprivileged datagram socket (net.ipv4.ping_group_range)");
    expect(describeIcmpMode("unavailable")).toContain("icmp: unavailable");
    expect(describeIcmpMode("unavailable")).toContain("CAP_NET_RAW");
  });

  test("bad options are refused when the prober is made", () => {
    expect(() => createIcmpProber({ pollIntervalMs: 0 })).toThrow(/pollIntervalMs/);
    expect(() => createIcmpProber({ mode: "ping" as never })).toThrow(/mode must be/);
  });

  // A child without CAP_NET_RAW, in a network namespace of its own (ping_group_range is per
  // namespace, so the host's setting is never touched): the automatic choice falls back to the
  // datagram socket when the range allows it, and is "unavailable" when it does not.
  const canDropPrivilege = IS_ROOT && Bun.which("unshare") !== null && Bun.which("setpriv") !== null;
  const childScript = `
    const { createIcmpProber } = await import(${JSON.stringify(resolve(import.meta.dir, "../../../src/checks/probes/icmp.ts"))});
    const p = createIcmpProber();
    const t = (address) => ({ key: address, address, port: 0, check: { type: "icmp", timeout: 2000, interval: 4000, failure_threshold: 1, success_threshold: 1 } });
    const v4 = await p.probe(t("127.0.0.1"), AbortSignal.timeout(2000));
    const v6 = await p.probe(t("::1"), AbortSignal.timeout(2000));
    console.log(JSON.stringify({ mode: p.mode, modes: p.modes, describe: p.describe(), v4, v6 }));
    p.close();`;
  const runUnprivileged = (range: string) => {
    const r = sh(
      "unshare", "--net", "sh", "-c",
      `ip link set lo up && echo "${range}" > /proc/sys/net/ipv4/ping_group_range && exec setpriv --bounding-set -net_raw --inh-caps -net_raw "$0" -e "$1"`,
      process.execPath, childScript,
    );
    if (!r.ok) throw new Error(r.out);
    return JSON.parse(r.out.split("\n").at(-1)!);
  };

  test.skipIf(!canDropPrivilege)("without CAP_NET_RAW but inside ping_group_range: the datagram socket", () => {
    const child = runUnprivileged("0 2147483647");
    expect(child.modes.ipv4).toBe("datagram");
    expect(child.v4.status).toBe("up");
    if (HAS_IPV6) expect([child.modes.ipv6, child.v6.status]).toEqual(["datagram", "up"]);
  });

  test.skipIf(!canDropPrivilege)("without CAP_NET_RAW and outside ping_group_range: unavailable, and says how to fix it", () => {
    const child = runUnprivileged("1 0");
    expect(child.modes.ipv4).toBe("unavailable");
    expect(child.describe).toContain("icmp: unavailable");
    expect(child.v4).toMatchObject({ status: "down", detail: ICMP_UNAVAILABLE_DETAIL });
    if (HAS_IPV6) expect(child.v6).toMatchObject({ status: "down", detail: ICMP_UNAVAILABLE_DETAIL });
  });
});

describe("loopback", () => {
  for (const { name, prober, skip } of byMode()) {
    test.skipIf(skip)(`${name}: 127.0.0.1 and ::1 answer, with a small RTT`, async () => {
      for (const address of ["127.0.0.1", "::ffff:127.0.0.1", ...(HAS_IPV6 ? ["::1"] : [])]) {
        const result = await run(prober, address);
        expect(result.status).toBe("up");
        expect(result.detail).toMatch(/^echo reply in [\d.]+ ms$/);
        expect(result.durationMs).toBeGreaterThanOrEqual(0);
        expect(result.durationMs).toBeLessThan(50);
      }
      expect(prober.outstanding()).toBe(0);
    });

    test.skipIf(skip)(`${name}: thousands of concurrent probes over one socket all come back`, async () => {
      const addresses = [...Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`), "127.1.2.3", ...(HAS_IPV6 ? ["::1"] : [])];
      const results = await Promise.all(Array.from({ length: 3000 }, (_, i) => run(prober, addresses[i % addresses.length]!, 3000)));
      expect(results.filter((r) => r.status !== "up")).toEqual([]);
      expect(prober.outstanding()).toBe(0);
    });
  }

  test("an address that is not an IP, and a check of another kind, are down without sending", async () => {
    expect(await run(raw, "example.com")).toMatchObject({ status: "down", detail: 'not an IP address: "example.com"' });
    const wrongKind = { ...target("127.0.0.1"), check: { ...target("127.0.0.1").check, type: "tcp" } as HealthCheckConfig };
    expect((await raw.probe(wrongKind, AbortSignal.timeout(100))).detail).toBe("an icmp probe cannot run a tcp check");
  });
});

describe.skipIf(namespaceProblem !== null)("a host in a network namespace", () => {
  const kinds = () => byMode().filter((m) => !m.skip);

  test("answers while its link is up (IPv4 and IPv6, every mode)", async () => {
    assertLocalRoute(V4_NS);
    assertLocalRoute(V6_NS);
    for (const { name, prober } of kinds()) {
      for (const address of [V4_NS, V6_NS]) {
        const result = await run(prober, address, 2000);
        expect({ name, address, status: result.status }).toEqual({ name, address, status: "up" });
      }
    }
  });

  test("is down with a timeout once its link goes down, and a silent target never takes another's reply", async () => {
    setNamespaceLink("down");
    try {
      assertLocalRoute(V4_NS);
      for (const { name, prober } of kinds()) {
        const silent = Array.from({ length: 20 }, (_, i) => run(prober, i % 2 ? V6_NS : V4_NS, 300));
        const answering = Array.from({ length: 500 }, (_, i) => run(prober, i % 5 ? `127.0.0.${(i % 7) + 1}` : "::1", 3000));
        const [down, up] = await Promise.all([Promise.all(silent), Promise.all(answering)]);
        for (const result of down) {
          expect({ name, ...result, durationMs: 0 }).toEqual({ name, status: "down", detail: "timeout after 300 ms", durationMs: 0 });
          expect(result.durationMs).toBeGreaterThanOrEqual(290);
          expect(result.durationMs).toBeLessThan(1000);
        }
        expect(up.every((r) => r.status === "up")).toBe(true);
        expect(prober.outstanding()).toBe(0);
      }
    } finally {
      setNamespaceLink("up");
    }
  });

  test("comes back up when its link does", async () => {
    for (const { prober } of kinds()) {
      // The first reply may wait for neighbour discovery to start over.
      expect((await run(prober, V4_NS, 3000)).status).toBe("up");
      expect((await run(prober, V6_NS, 3000)).status).toBe("up");
    }
  });

  test.skipIf(!IS_ROOT)("raw: an ICMP error quoting the request is reported (host unreachable once ARP gives up)", async () => {
    setNamespaceLink("down");
    try {
      // Ask for a neighbour that no longer answers: after its ARP attempts (about 3 s) the kernel
      // answers the queued request with "host unreachable", which the raw socket sees.
      sh("ip", "neigh", "flush", "dev", HOST_IF);
      const result = await run(raw, V4_NS, 8000);
      expect(result.status).toBe("down");
      expect(result.detail).toBe(`destination host unreachable (from ${V4_HOST})`);
      expect(result.durationMs).toBeLessThan(7000);
    } finally {
      setNamespaceLink("up");
    }
  }, 15000);

  test("a probe settles as soon as its signal aborts", async () => {
    setNamespaceLink("down");
    try {
      for (const { prober } of kinds()) {
        const controller = new AbortController();
        const started = performance.now();
        const pending = prober.probe(target(V4_NS, 5000), controller.signal);
        setTimeout(() => controller.abort(), 50);
        const result = await pending;
        const took = performance.now() - started;
        expect(result).toMatchObject({ status: "down", detail: "timeout after 5000 ms" });
        expect(took).toBeGreaterThanOrEqual(45);
        expect(took).toBeLessThan(150);
        expect(prober.outstanding()).toBe(0);
      }
    } finally {
      setNamespaceLink("up");
    }
  });
});

describe("close", () => {
  const socketInodes = () => {
    const inodes = new Set<string>();
    for (const fd of readdirSync("/proc/self/fd")) {
      try {
        const link = readlinkSync(`/proc/self/fd/${fd}`);
        if (link.startsWith("socket:")) inodes.add(link);
      } catch {
        // closed while listing
      }
    }
    return inodes;
  };

  test.skipIf(!IS_ROOT)("close() releases both sockets and settles what is outstanding", async () => {
    const before = socketInodes();
    const prober = createIcmpProber();
    const opened = [...socketInodes()].filter((s) => !before.has(s));
    expect(opened.length).toBe(FAMILIES); // one per family, however many targets
    const inFlight = prober.probe(target("127.0.0.1"), new AbortController().signal);
    prober.close();
    prober.close();
    expect(await inFlight).toMatchObject({ status: "down", detail: "ICMP prober closed" });
    const after = socketInodes();
    expect(opened.filter((s) => after.has(s))).toEqual([]);
    expect(await run(prober, "127.0.0.1")).toMatchObject({ status: "down", detail: "ICMP prober closed" });
  });
});

// ---------------------------------------------------------------------------------------------
// Matching rules, with a socket whose traffic the test writes.

class FakeSocket implements IcmpSocket {
  readonly fd = -1;
  sent: { message: Uint8Array; address: Uint8Array }[] = [];
  inbox: IcmpDatagram[] = [];
  sendErrors: number[] = [];
  receives = 0;
  closed = false;

  constructor(
    readonly family: IcmpFamily,
    readonly kind: IcmpSocketKind,
    readonly boundIdentifier: number | null = kind === "datagram" ? 4242 : null,
  ) {}

  send(message: Uint8Array, address: Uint8Array): number {
    const errno = this.sendErrors.shift() ?? 0;
    if (errno === 0) this.sent.push({ message: message.slice(), address: address.slice() });
    return errno;
  }

  receive(): IcmpDatagram | null {
    this.receives++;
    return this.inbox.shift() ?? null;
  }

  close(): void {
    this.closed = true;
  }

  /** An echo reply to sent[index], optionally altered. */
  reply(index: number, change: { source?: Uint8Array; identifier?: number; edit?: (m: Uint8Array) => void } = {}): void {
    const request = this.sent[index]!;
    const message = request.message.slice();
    message[0] = this.family === 4 ? 0 : 129;
    if (change.identifier !== undefined) new DataView(message.buffer).setUint16(4, change.identifier);
    change.edit?.(message);
    this.inbox.push({ message, source: change.source ?? request.address, receivedAtMs: null });
  }
}

function fakeProber(kind: IcmpSocketKind = "raw", pollIntervalMs = 2) {
  const sockets: Partial<Record<IcmpFamily, FakeSocket>> = {};
  const prober = createIcmpProber({
    mode: kind,
    pollIntervalMs,
    openSocket: (family, k): OpenResult => {
      const socket = new FakeSocket(family, k);
      sockets[family] = socket;
      return { ok: true, socket };
    },
  });
  probers.push(prober);
  return { prober, v4: sockets[4]!, v6: sockets[6]! };
}

const tick = () => Bun.sleep(10);
const ip4 = (...bytes: number[]) => new Uint8Array(bytes);

describe("matching (fake socket)", () => {
  test("a reply resolves only its own request: source, identifier, sequence, cookie and request number must match", async () => {
    const { prober, v4 } = fakeProber();
    let settled: ProbeResult | null = null;
    const result = run(prober, "10.9.8.7").then((r) => (settled = r));
    const message = v4.sent[0]!.message;
    expect(internetChecksum(message)).toBe(0); // raw IPv4: the checksum is ours to compute
    expect(v4.sent[0]!.address).toEqual(ip4(10, 9, 8, 7));

    v4.reply(0, { source: ip4(10, 9, 8, 6) });
    v4.reply(0, { identifier: (new DataView(message.buffer).getUint16(4) + 1) & 0xffff });
    v4.reply(0, { edit: (m) => (m[9] = m[9]! ^ 1) }); // cookie
    v4.reply(0, { edit: (m) => (m[19] = m[19]! ^ 1) }); // request number
    await tick();
    expect(settled).toBeNull();
    expect(v4.inbox).toEqual([]);

    v4.reply(0);
    expect(await result).toMatchObject({ status: "up" });
    expect(prober.outstanding()).toBe(0);
  });

  test("requests get distinct sequence numbers, which wrap at 65536; the 65537th outstanding one is refused", async () => {
    const { prober, v4 } = fakeProber();
    const controllers = Array.from({ length: 65536 }, () => new AbortController());
    const results = controllers.map((c) => prober.probe(target("10.0.0.1"), c.signal));
    const sequences = v4.sent.map((s) => new DataView(s.message.buffer).getUint16(6));
    expect(new Set(sequences).size).toBe(65536);
    const first = sequences[0]!;
    expect(sequences.every((s, i) => s === ((first + i) & 0xffff))).toBe(true);

    expect(await run(prober, "10.0.0.2")).toMatchObject({ status: "down", detail: "too many ICMP probes outstanding (65536 on one socket)" });
    for (const c of controllers) c.abort();
    expect((await Promise.all(results)).every((r) => r.detail === "timeout after 1000 ms")).toBe(true);
    expect(prober.outstanding()).toBe(0);

    const next = prober.probe(target("10.0.0.3"), AbortSignal.timeout(1000));
    expect(new DataView(v4.sent.at(-1)!.message.buffer).getUint16(6)).toBe(first);
    v4.reply(v4.sent.length - 1);
    expect((await next).status).toBe("up");
  }, 30000);

  test("a full send buffer is retried on the next tick; a hard send error is down at once", async () => {
    const { prober, v4 } = fakeProber();
    v4.sendErrors.push(EAGAIN);
    const pending = run(prober, "10.0.0.1");
    expect(v4.sent.length).toBe(0);
    await tick();
    expect(v4.sent.length).toBe(1);
    v4.reply(0);
    expect((await pending).status).toBe("up");

    v4.sendErrors.push(101);
    expect(await run(prober, "10.0.0.1")).toMatchObject({ status: "down", detail: "echo request not sent: network unreachable (ENETUNREACH)" });
    expect(prober.outstanding()).toBe(0);
  });

  test("raw: destination unreachable quoting the request is down at once, naming the router", async () => {
    const { prober, v4, v6 } = fakeProber();
    const pending4 = run(prober, "10.0.0.1");
    const request = v4.sent[0]!.message;
    const ipHeader = new Uint8Array(20);
    ipHeader[0] = 0x45;
    ipHeader[9] = 1;
    ipHeader.set(ip4(10, 0, 0, 1), 16);
    const error4 = new Uint8Array([3, 1, 0, 0, 0, 0, 0, 0, ...ipHeader, ...request]);
    v4.inbox.push({ message: error4, source: ip4(10, 0, 0, 254), receivedAtMs: null });
    expect(await pending4).toMatchObject({ status: "down", detail: "destination host unreachable (from 10.0.0.254)" });

    const pending6 = run(prober, "2001:db8::5");
    const request6 = v6.sent[0]!.message;
    const ip6Header = new Uint8Array(40);
    ip6Header[0] = 0x60;
    ip6Header[6] = 58;
    ip6Header.set(v6.sent[0]!.address, 24);
    const router = new Uint8Array(16);
    router.set([0x20, 0x01, 0x0d, 0xb8], 0);
    router[15] = 1;
    v6.inbox.push({ message: new Uint8Array([1, 3, 0, 0, 0, 0, 0, 0, ...ip6Header, ...request6]), source: router, receivedAtMs: null });
    expect(await pending6).toMatchObject({ status: "down", detail: "destination address unreachable (from 2001:db8::1)" });
  });

  test("datagram: the kernel's identifier is used, and the timer stops when nothing is outstanding", async () => {
    const { prober, v4 } = fakeProber("datagram");
    const pending = run(prober, "10.0.0.1");
    expect(new DataView(v4.sent[0]!.message.buffer).getUint16(4)).toBe(4242);
    v4.reply(0);
    expect((await pending).status).toBe("up");
    const reads = v4.receives;
    await Bun.sleep(30);
    expect(v4.receives).toBe(reads);
  });

  test("the RTT comes from the kernel's receive stamp when there is one", async () => {
    const { prober, v4 } = fakeProber();
    const pending = run(prober, "10.0.0.1");
    const sentAt = new DataView(v4.sent[0]!.message.buffer).getFloat64(24);
    v4.reply(0);
    v4.inbox[0]!.receivedAtMs = sentAt + 0.25;
    await Bun.sleep(20); // later than the stamp: the stamp still wins
    expect(await pending).toMatchObject({ status: "up", durationMs: 0.25, detail: "echo reply in 0.250 ms" });
  });

  test("a reply that arrived before the deadline counts even if no tick has read it yet", async () => {
    const { prober, v4 } = fakeProber("raw", 1000);
    const controller = new AbortController();
    const pending = prober.probe(target("10.0.0.1"), controller.signal);
    v4.reply(0);
    controller.abort();
    expect((await pending).status).toBe("up");
  });

  test("unavailable: no socket of either kind means down with how to enable it", async () => {
    const denied = createIcmpProber({ openSocket: () => ({ ok: false, errno: 13, reason: "permission denied (EACCES)" }) });
    probers.push(denied);
    expect(denied.mode).toBe("unavailable");
    expect(denied.describe()).toContain("icmp: unavailable");
    expect(await run(denied, "127.0.0.1")).toMatchObject({ status: "down", detail: ICMP_UNAVAILABLE_DETAIL });
    expect(ICMP_UNAVAILABLE_DETAIL).toBe("ICMP unavailable: run as root, grant CAP_NET_RAW, or widen net.ipv4.ping_group_range");

    const noV6 = createIcmpProber({
      openSocket: (family, kind) =>
        family === 4 ? { ok: true, socket: new FakeSocket(4, kind) } : { ok: false, errno: 97, reason: "socket(AF_INET6, ...): address family not supported (EAFNOSUPPORT)" },
    });
    probers.push(noV6);
    expect(noV6.modes).toEqual({ ipv4: "raw", ipv6: "unavailable" });
    expect((await run(noV6, "::1")).detail).toStartWith("ICMPv6 unavailable: socket(AF_INET6, ...): address family not supported");
  });
});
