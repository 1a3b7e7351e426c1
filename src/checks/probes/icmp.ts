/**
 * The ICMP echo probe: "does this address answer ping, and how fast".
 *
 * One prober holds ONE socket per address family and every probe shares it: each request gets its
 * own (identifier, sequence) pair, replies are matched on (source address, identifier, sequence)
 * plus a cookie in the payload, and no probe ever starts a process or opens a socket of its own.
 *
 * Three modes, chosen when the prober is created (per family; `mode` is IPv4's):
 *   - "raw": a raw ICMP socket. Needs root or CAP_NET_RAW (`setcap cap_net_raw+ep vigil`, or
 *     `AmbientCapabilities=CAP_NET_RAW` in the systemd unit). Also reports ICMP errors (host
 *     unreachable, time exceeded) that quote a request, so such a probe is down at once.
 *   - "datagram": the unprivileged ICMP "ping socket". The kernel allows it when the process's group
 *     is inside net.ipv4.ping_group_range (it covers IPv6 too); many distributions ship "1 0", which
 *     allows nobody. An operator enables it with
 *         sysctl -w net.ipv4.ping_group_range="0 2147483647"
 *     (persist it in /etc/sysctl.d/). The kernel picks the identifier (the socket's "port"), fills in
 *     the checksum and hands this socket only its own replies. Errors are not reported: an unreachable
 *     host is a timeout.
 *   - "unavailable": neither socket could be opened. Every ICMP probe is then down with
 *     "ICMP unavailable: run as root, grant CAP_NET_RAW, or widen net.ipv4.ping_group_range".
 *     There is deliberately no fallback to running ping(8) per probe.
 *
 * Receiving: Bun cannot wait on an arbitrary fd, so while anything is outstanding a single interval
 * timer (every `pollIntervalMs`, 10 ms by default) drains both sockets with non-blocking recvmsg until
 * they are empty; with nothing outstanding the timer is stopped. A tick with nothing to read costs
 * about 40 µs (timer wake-up plus one recvmsg per family, ~1 µs each), so an always-busy prober uses
 * well under 1% of a core. The RTT comes from the kernel's receive timestamp (SO_TIMESTAMPNS) minus
 * the send time, so the polling delay does not inflate it, and a probe whose signal aborts reads the
 * socket once more before calling it a timeout, so a reply that beat the deadline is never lost.
 */

import { formatIp, parseIp } from "../../lib/cidr.ts";
import type { Probe, ProbeResult, ProbeTarget } from "../types.ts";
import {
  EAGAIN,
  ENOBUFS,
  errnoText,
  internetChecksum,
  openIcmpSocket,
  realtimeMs,
  type IcmpDatagram,
  type IcmpFamily,
  type IcmpSocket,
  type IcmpSocketKind,
  type OpenResult,
} from "./icmp-socket.ts";

export type { IcmpDatagram, IcmpFamily, IcmpSocket, IcmpSocketKind, OpenResult };

export type IcmpMode = "raw" | "datagram" | "unavailable";

export interface IcmpProberOptions {
  /** "auto" (default): raw when permitted, else datagram. "raw" / "datagram": only that kind. */
  mode?: "auto" | IcmpSocketKind;
  /** How often the sockets are drained while probes are outstanding, ms (1-1000; default 10). */
  pollIntervalMs?: number;
  /** Opens the sockets; a seam for tests (default: the real bun:ffi sockets). */
  openSocket?: (family: IcmpFamily, kind: IcmpSocketKind) => OpenResult;
}

export interface IcmpProber {
  probe: Probe;
  /** The IPv4 mode: the one to show first. */
  readonly mode: IcmpMode;
  readonly modes: { readonly ipv4: IcmpMode; readonly ipv6: IcmpMode };
  /** One line for the log: "icmp: raw socket (root); icmpv6: raw socket (root)". */
  describe(): string;
  /** Requests waiting for a reply (or to be sent), both families. */
  outstanding(): number;
  /** Closes the sockets and stops the timer; outstanding and later probes are down. Idempotent. */
  close(): void;
}

export const ICMP_UNAVAILABLE_DETAIL = "ICMP unavailable: run as root, grant CAP_NET_RAW, or widen net.ipv4.ping_group_range";

/** How an ICMP mode reads in the log, e.g. "icmp: raw socket (root)". */
export function describeIcmpMode(mode: IcmpMode, family: IcmpFamily = 4): string {
  const name = family === 4 ? "icmp" : "icmpv6";
  switch (mode) {
    case "raw":
      return `${name}: raw socket (${process.geteuid?.() === 0 ? "root" : "CAP_NET_RAW"})`;
    case "datagram":
      return `${name}: unprivileged datagram socket (net.ipv4.ping_group_range)`;
    case "unavailable":
      return `${name}: unavailable, ICMP probes report down (run as root, grant CAP_NET_RAW, or widen net.ipv4.ping_group_range)`;
  }
}

const HEADER = 8;
/** Payload: cookie (8 bytes, per socket), request number (4), zero (4), send time (8, f64 ms). */
const PAYLOAD = 24;
const MESSAGE = HEADER + PAYLOAD;
/** At most this many datagrams per socket per timer tick, so a flood cannot hold the event loop. */
const DRAIN_LIMIT = 4096;
const PERMISSION_ERRNOS = new Set([1, 13]); // EPERM, EACCES

interface Request {
  readonly sequence: number;
  readonly nonce: number;
  readonly address: Uint8Array;
  readonly startedAt: number;
  /** performance.now() and CLOCK_REALTIME ms at the sendto; null while waiting in the backlog. */
  sentAt: number | null;
  sentAtReal: number;
  settle(result: ProbeResult): void;
}

/** One family's socket and the requests waiting on it. */
class Channel {
  readonly pending = new Map<number, Request>();
  /** Requests whose send hit a full buffer, retried on the next tick, oldest first. */
  private backlog: Request[] = [];
  private nextSequence = randomUint16();
  private nextNonce = randomUint32();
  private readonly identifier: number | null;
  private readonly cookie = crypto.getRandomValues(new Uint8Array(8));
  private readonly packet = new Uint8Array(MESSAGE);
  private readonly packetView = new DataView(this.packet.buffer);
  private readonly requestType: number;
  private readonly replyType: number;

  constructor(readonly socket: IcmpSocket) {
    // A raw socket chooses its identifier; a datagram socket gets the kernel's (its bound "port").
    this.identifier = socket.kind === "raw" ? randomUint16() : socket.boundIdentifier;
    this.requestType = socket.family === 4 ? 8 : 128;
    this.replyType = socket.family === 4 ? 0 : 129;
    this.packet.set(this.cookie, HEADER);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Registers and sends one request; null when all 65536 sequence numbers are outstanding. */
  start(address: Uint8Array, startedAt: number, settle: (request: Request, result: ProbeResult) => void): Request | null {
    const sequence = this.allocateSequence();
    if (sequence < 0) return null;
    const request: Request = {
      sequence,
      nonce: this.nextNonce,
      address,
      startedAt,
      sentAt: null,
      sentAtReal: 0,
      settle: (result) => settle(request, result),
    };
    this.nextNonce = (this.nextNonce + 1) >>> 0;
    this.pending.set(sequence, request);
    if (this.backlog.length > 0) this.backlog.push(request);
    else if (!this.transmit(request)) this.backlog.push(request);
    return request;
  }

  /** Forgets a request (answered, aborted, failed). A backlog entry is dropped when it comes up. */
  remove(request: Request): void {
    if (this.pending.get(request.sequence) === request) this.pending.delete(request.sequence);
  }

  /** Sends what the last tick could not; stops at the first buffer that is still full. */
  flushBacklog(): void {
    if (this.backlog.length === 0) return;
    const queue = this.backlog;
    let i = 0;
    for (; i < queue.length; i++) {
      const request = queue[i]!;
      if (this.pending.get(request.sequence) !== request) continue;
      if (!this.transmit(request)) break;
    }
    this.backlog = i >= queue.length ? [] : queue.slice(i);
  }

  /** Reads every datagram waiting (up to the limit) and settles the requests they answer. */
  drain(): void {
    for (let i = 0; i < DRAIN_LIMIT; i++) {
      const datagram = this.socket.receive();
      if (!datagram) return;
      if (this.pending.size > 0) this.handle(datagram);
    }
  }

  /** True when the request left or failed for good (and was settled); false when the buffer was full. */
  private transmit(request: Request): boolean {
    const p = this.packet;
    const v = this.packetView;
    p[0] = this.requestType;
    p[1] = 0;
    v.setUint16(2, 0);
    v.setUint16(4, this.identifier ?? 0);
    v.setUint16(6, request.sequence);
    v.setUint32(16, request.nonce);
    v.setUint32(20, 0);
    const sentAtReal = realtimeMs();
    v.setFloat64(24, sentAtReal);
    // IPv4 raw sockets send what they are given; the kernel computes ICMPv6 checksums, and the
    // checksum of datagram ("ping") sockets, itself.
    if (this.socket.family === 4 && this.socket.kind === "raw") v.setUint16(2, internetChecksum(p));
    const sentAt = performance.now();
    const errno = this.socket.send(p, request.address);
    if (errno === EAGAIN || errno === ENOBUFS) return false;
    if (errno !== 0) {
      request.settle({ status: "down", detail: `echo request not sent: ${errnoText(errno)}`, durationMs: elapsed(request.startedAt) });
      return true;
    }
    request.sentAt = sentAt;
    request.sentAtReal = sentAtReal;
    return true;
  }

  private handle(datagram: IcmpDatagram): void {
    const m = datagram.message;
    if (m.length < HEADER) return;
    const type = m[0]!;
    if (type === this.replyType) this.handleReply(datagram);
    else if (this.socket.kind === "raw") this.handleError(datagram);
  }

  private handleReply({ message: m, source, receivedAtMs }: IcmpDatagram): void {
    if (m.length < MESSAGE) return;
    const request = this.pending.get(readUint16(m, 6));
    if (!request || request.sentAt === null) return;
    if (this.identifier !== null && readUint16(m, 4) !== this.identifier) return;
    if (!sameBytes(source, request.address)) return;
    if (!sameBytes(m.subarray(HEADER, HEADER + 8), this.cookie)) return;
    if (readUint32(m, 16) !== request.nonce) return;
    const monotonic = performance.now() - request.sentAt;
    let rtt = monotonic;
    if (receivedAtMs !== null) {
      // The kernel's receive stamp is on the wall clock; trust it unless the clock stepped meanwhile.
      const kernel = receivedAtMs - request.sentAtReal;
      if (kernel >= 0 && kernel <= monotonic + 1) rtt = kernel;
    }
    const durationMs = Math.round(rtt * 1000) / 1000;
    request.settle({ status: "up", detail: `echo reply in ${formatRtt(durationMs)} ms`, durationMs });
  }

  /** An ICMP error quoting one of our requests: destination unreachable, time exceeded. */
  private handleError({ message: m, source }: IcmpDatagram): void {
    const quote = m.subarray(HEADER);
    let destination: Uint8Array;
    let inner: Uint8Array;
    if (this.socket.family === 4) {
      if (quote.length < 20 || quote[9] !== 1) return; // protocol must be ICMP
      const headerLength = (quote[0]! & 0x0f) * 4;
      destination = quote.subarray(16, 20);
      inner = quote.subarray(headerLength);
    } else {
      if (quote.length < 40 || quote[6] !== 58) return; // next header must be ICMPv6
      destination = quote.subarray(24, 40);
      inner = quote.subarray(40);
    }
    if (inner.length < HEADER || inner[0] !== this.requestType) return;
    const request = this.pending.get(readUint16(inner, 6));
    if (!request || request.sentAt === null) return;
    if (this.identifier !== null && readUint16(inner, 4) !== this.identifier) return;
    if (!sameBytes(destination, request.address)) return;
    // The quote usually holds the payload too; when it does, it must be ours.
    if (inner.length >= MESSAGE && (!sameBytes(inner.subarray(HEADER, HEADER + 8), this.cookie) || readUint32(inner, 16) !== request.nonce)) return;
    const what = icmpErrorText(this.socket.family, m[0]!, m[1]!);
    request.settle({ status: "down", detail: `${what} (from ${formatIp(source)})`, durationMs: elapsed(request.startedAt) });
  }

  private allocateSequence(): number {
    for (let tries = 0; tries < 65536; tries++) {
      const sequence = this.nextSequence;
      this.nextSequence = (sequence + 1) & 0xffff;
      if (!this.pending.has(sequence)) return sequence;
    }
    return -1;
  }
}

/**
 * Opens the sockets (one per family) now; `mode` says what it got. Throws only on bad options.
 */
export function createIcmpProber(options: IcmpProberOptions = {}): IcmpProber {
  const preference = options.mode ?? "auto";
  if (preference !== "auto" && preference !== "raw" && preference !== "datagram") {
    throw new Error(`icmp prober: mode must be "auto", "raw" or "datagram", got ${JSON.stringify(preference)}`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? 10;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 1 || pollIntervalMs > 1000) {
    throw new Error(`icmp prober: pollIntervalMs must be between 1 and 1000, got ${pollIntervalMs}`);
  }

  const openSocket = options.openSocket ?? openIcmpSocket;
  const kinds: IcmpSocketKind[] = preference === "auto" ? ["raw", "datagram"] : [preference];
  const unavailable: Record<IcmpFamily, string> = { 4: "", 6: "" };
  const open = (family: IcmpFamily): Channel | null => {
    const reasons: string[] = [];
    let permissionOnly = true;
    for (const kind of kinds) {
      const result = openSocket(family, kind);
      if (result.ok) return new Channel(result.socket);
      reasons.push(result.reason);
      if (!PERMISSION_ERRNOS.has(result.errno)) permissionOnly = false;
    }
    unavailable[family] = permissionOnly ? ICMP_UNAVAILABLE_DETAIL : `${family === 4 ? "ICMP" : "ICMPv6"} unavailable: ${reasons.join("; ")}`;
    return null;
  };
  const channels: Record<IcmpFamily, Channel | null> = { 4: open(4), 6: open(6) };
  const modeOf = (channel: Channel | null): IcmpMode => channel?.socket.kind ?? "unavailable";
  const modes = { ipv4: modeOf(channels[4]), ipv6: modeOf(channels[6]) };
  const live = [channels[4], channels[6]].filter((c): c is Channel => c !== null);

  let closed = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  const outstanding = () => live.reduce((n, c) => n + c.size, 0);

  const tick = () => {
    for (const channel of live) {
      channel.flushBacklog();
      channel.drain();
    }
    if (outstanding() === 0) stopTimer();
  };
  const stopTimer = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const ensureTimer = () => {
    if (timer !== null) return;
    // Whatever queued up while nobody was listening (other processes' replies) goes first, so it
    // cannot fill the receive buffer ahead of our replies.
    for (const channel of live) channel.drain();
    timer = setInterval(tick, pollIntervalMs);
  };

  const probe: Probe = (target: ProbeTarget, signal: AbortSignal) =>
    new Promise<ProbeResult>((resolve) => {
      const startedAt = performance.now();
      try {
        if (closed) return resolve(down("ICMP prober closed", startedAt));
        if (target.check.type !== "icmp") return resolve(down(`an icmp probe cannot run a ${target.check.type} check`, startedAt));
        const address = parseIp(target.address);
        if (!address) return resolve(down(`not an IP address: ${JSON.stringify(target.address)}`, startedAt));
        const family = familyOf(address);
        const bytes = family === 4 && address.length === 16 ? address.subarray(12) : address;
        const channel = channels[family];
        if (!channel) return resolve(down(unavailable[family], startedAt));
        if (signal.aborted) return resolve(timeout(startedAt, target));

        let request: Request | null = null;
        const onAbort = () => {
          if (!request) return;
          // A reply that arrived since the last tick still counts: read it before giving up.
          channel.drain();
          if (channel.pending.get(request.sequence) === request) finish(request, timeout(startedAt, target));
        };
        const finish = (r: Request, result: ProbeResult) => {
          channel.remove(r);
          signal.removeEventListener("abort", onAbort);
          if (outstanding() === 0) stopTimer();
          resolve(result);
        };
        ensureTimer();
        request = channel.start(bytes, startedAt, finish);
        if (!request) {
          if (outstanding() === 0) stopTimer();
          return resolve(down("too many ICMP probes outstanding (65536 on one socket)", startedAt));
        }
        // A send that failed for good settled the request already.
        if (channel.pending.get(request.sequence) === request) signal.addEventListener("abort", onAbort, { once: true });
      } catch (error) {
        resolve(down(`ICMP probe failed: ${error instanceof Error ? error.message : String(error)}`, startedAt));
      }
    });

  return {
    probe,
    mode: modes.ipv4,
    modes,
    describe: () => `${describeIcmpMode(modes.ipv4, 4)}; ${describeIcmpMode(modes.ipv6, 6)}`,
    outstanding,
    close() {
      if (closed) return;
      closed = true;
      stopTimer();
      for (const channel of live) {
        for (const request of [...channel.pending.values()]) request.settle(down("ICMP prober closed", request.startedAt));
        channel.socket.close();
      }
    },
  };
}

function familyOf(address: Uint8Array): IcmpFamily {
  if (address.length === 4) return 4;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is pinged over IPv4.
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return 6;
  return address[10] === 0xff && address[11] === 0xff ? 4 : 6;
}

function down(detail: string, startedAt: number): ProbeResult {
  return { status: "down", detail, durationMs: elapsed(startedAt) };
}

/** Worded like the other probes': the check's configured timeout (what aborts the signal). */
function timeout(startedAt: number, target: ProbeTarget): ProbeResult {
  const durationMs = elapsed(startedAt);
  const limit = Number.isFinite(target.check.timeout) ? target.check.timeout : Math.round(durationMs);
  return { status: "down", detail: `timeout after ${limit} ms`, durationMs };
}

function elapsed(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}

function formatRtt(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

const V4_UNREACHABLE: Record<number, string> = {
  0: "network unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  4: "fragmentation needed",
  9: "network administratively prohibited",
  10: "host administratively prohibited",
  13: "communication administratively prohibited",
};
const V6_UNREACHABLE: Record<number, string> = {
  0: "no route to destination",
  1: "communication administratively prohibited",
  3: "address unreachable",
  4: "port unreachable",
  5: "source address failed policy",
  6: "reject route to destination",
};

function icmpErrorText(family: IcmpFamily, type: number, code: number): string {
  if (family === 4 && type === 3) return `destination ${V4_UNREACHABLE[code] ?? `unreachable (code ${code})`}`;
  if (family === 6 && type === 1) return `destination ${V6_UNREACHABLE[code] ?? `unreachable (code ${code})`}`;
  return `time exceeded (code ${code})`;
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function randomUint16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
