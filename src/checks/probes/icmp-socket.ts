// ICMP sockets through bun:ffi: the handful of libc calls the ICMP probe needs (socket, bind,
// getsockname, setsockopt, sendto, recvmsg, close, clock_gettime, errno), wrapped so the rest of the
// code sees "open a socket of this kind", "send these bytes to that address", "take the next datagram
// if there is one". Linux only; every socket is non-blocking, so no call here ever waits.
//
// What the two kinds hand back differs, and this file hides the difference:
//   raw (SOCK_RAW, root or CAP_NET_RAW): IPv4 datagrams arrive with their IP header (stripped here);
//     the sender picks the echo identifier and (IPv4) computes the checksum. Every raw ICMP socket on
//     the host sees a copy of every matching ICMP message, so a kernel filter keeps only echo replies
//     and the error types that quote an echo request.
//   datagram (SOCK_DGRAM + IPPROTO_ICMP, "ping socket", allowed by net.ipv4.ping_group_range): only
//     the ICMP message arrives, only replies to this socket's identifier (its local "port", which the
//     kernel writes into every request), and the kernel fills in the checksum.
// Received datagrams carry the kernel's receive time (SO_TIMESTAMPNS), so a reply's RTT does not
// depend on how soon the caller gets around to reading it.

import { dlopen, FFIType, ptr, read } from "bun:ffi";

export type IcmpSocketKind = "raw" | "datagram";
export type IcmpFamily = 4 | 6;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SO_TIMESTAMPNS = 35; // SCM_TIMESTAMPNS has the same number
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const ICMP6_FILTER = 1;
const MSG_DONTWAIT = 0x40;
const CLOCK_REALTIME = 0;

/** ICMP types the raw sockets let through: echo reply and the errors that quote a request. */
const PASS_V4 = [0, 3, 11]; // echo reply, destination unreachable, time exceeded
const PASS_V6 = [129, 1, 3]; // echo reply, destination unreachable, time exceeded

export const EAGAIN = 11;
export const ENOBUFS = 105;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  22: "EINVAL",
  24: "EMFILE",
  90: "EMSGSIZE",
  93: "EPROTONOSUPPORT",
  97: "EAFNOSUPPORT",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  113: "EHOSTUNREACH",
};
const ERRNO_TEXT: Record<number, string> = {
  1: "operation not permitted",
  13: "permission denied",
  22: "invalid argument",
  24: "too many open files",
  90: "message too long",
  93: "protocol not supported",
  97: "address family not supported",
  99: "address not available",
  101: "network unreachable",
  105: "no buffer space",
  113: "no route to host",
};

/** "network unreachable (ENETUNREACH)"; "errno 42" for the ones not in the table. */
export function errnoText(errno: number): string {
  const name = ERRNO_NAMES[errno];
  const text = ERRNO_TEXT[errno];
  if (name && text) return `${text} (${name})`;
  return name ?? `errno ${errno}`;
}

function loadLibc() {
  const { i32, u32, u64, i64_fast, ptr: pointer } = FFIType;
  const symbols = {
    socket: { args: [i32, i32, i32], returns: i32 },
    bind: { args: [i32, pointer, u32], returns: i32 },
    getsockname: { args: [i32, pointer, pointer], returns: i32 },
    setsockopt: { args: [i32, i32, i32, pointer, u32], returns: i32 },
    sendto: { args: [i32, pointer, u64, i32, pointer, u32], returns: i64_fast },
    recvmsg: { args: [i32, pointer, i32], returns: i64_fast },
    close: { args: [i32], returns: i32 },
    clock_gettime: { args: [i32, pointer], returns: i32 },
    __errno_location: { args: [], returns: pointer },
  } as const;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      return dlopen(name, symbols).symbols;
    } catch {
      // try the next name
    }
  }
  return null;
}

type Libc = NonNullable<ReturnType<typeof loadLibc>>;
let libcCache: Libc | null | undefined;
let libcError = "";

function libc(): Libc | null {
  if (libcCache === undefined) {
    if (process.platform !== "linux") {
      libcCache = null;
      libcError = `ICMP sockets are implemented for Linux only (this is ${process.platform})`;
    } else {
      libcCache = loadLibc();
      if (!libcCache) libcError = "bun:ffi could not load libc.so.6";
    }
  }
  return libcCache;
}

function lastErrno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

const clockBuffer = new BigInt64Array(2);

/** CLOCK_REALTIME in milliseconds (fractional): the clock the kernel stamps received datagrams with. */
export function realtimeMs(): number {
  const c = libc();
  if (!c || c.clock_gettime(CLOCK_REALTIME, clockBuffer) !== 0) return Date.now();
  return Number(clockBuffer[0]!) * 1000 + Number(clockBuffer[1]!) / 1e6;
}

/** One datagram as read. `message` and `source` are views into the socket's buffers: valid until the next receive. */
export interface IcmpDatagram {
  /** The ICMP message (type, code, checksum, ...), IP header already removed. */
  message: Uint8Array;
  /** Sender's address, 4 or 16 bytes. */
  source: Uint8Array;
  /** Kernel receive time on CLOCK_REALTIME, ms; null when the kernel gave none. */
  receivedAtMs: number | null;
}

export interface IcmpSocket {
  readonly family: IcmpFamily;
  readonly kind: IcmpSocketKind;
  readonly fd: number;
  /** The echo identifier the kernel puts in every request of a datagram socket; null for raw sockets. */
  readonly boundIdentifier: number | null;
  /** Sends one ICMP message to a 4- or 16-byte address: 0 when sent, else the errno (EAGAIN/ENOBUFS: try again later). */
  send(message: Uint8Array, address: Uint8Array): number;
  /** The next datagram waiting, or null when there is none (or the socket failed). Never blocks. */
  receive(): IcmpDatagram | null;
  close(): void;
}

export type OpenResult = { ok: true; socket: IcmpSocket } | { ok: false; errno: number; reason: string };

const RECEIVE_BUFFER = 2048; // larger messages arrive truncated: only their headers matter here
const CONTROL_BUFFER = 128;
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Opens a non-blocking ICMP (IPv4) or ICMPv6 socket of the given kind. Failing is normal (not root,
 * ping_group_range too narrow, IPv6 disabled): the result says why, with the errno.
 */
export function openIcmpSocket(family: IcmpFamily, kind: IcmpSocketKind): OpenResult {
  const c = libc();
  if (!c) return { ok: false, errno: 0, reason: libcError };
  const domain = family === 4 ? AF_INET : AF_INET6;
  const protocol = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  const type = (kind === "raw" ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const fd = c.socket(domain, type, protocol);
  if (fd < 0) {
    const errno = lastErrno(c);
    return { ok: false, errno, reason: `socket(${family === 4 ? "AF_INET" : "AF_INET6"}, ${kind === "raw" ? "SOCK_RAW" : "SOCK_DGRAM"}, ${family === 4 ? "IPPROTO_ICMP" : "IPPROTO_ICMPV6"}): ${errnoText(errno)}` };
  }
  const setInt = (level: number, option: number, value: number) => c.setsockopt(fd, level, option, new Int32Array([value]), 4) === 0;
  // Bursts of thousands of probes answer in bursts: room for them between two reads. The FORCE
  // variants pass net.core.rmem_max when privileged; otherwise the plain ones (capped by it).
  if (!setInt(SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUFFER_BYTES)) setInt(SOL_SOCKET, SO_RCVBUF, SOCKET_BUFFER_BYTES);
  if (!setInt(SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUFFER_BYTES)) setInt(SOL_SOCKET, SO_SNDBUF, SOCKET_BUFFER_BYTES);
  setInt(SOL_SOCKET, SO_TIMESTAMPNS, 1);
  if (kind === "raw") {
    // The filters name the types to drop; a failure only costs reading more, so it is not fatal.
    if (family === 4) {
      let drop = 0xffffffff;
      for (const t of PASS_V4) drop &= ~(1 << t);
      c.setsockopt(fd, SOL_RAW, ICMP_FILTER, new Uint32Array([drop >>> 0]), 4);
    } else {
      const words = new Uint32Array(8).fill(0xffffffff);
      for (const t of PASS_V6) words[t >> 5] = (words[t >> 5]! & ~(1 << (t & 31))) >>> 0;
      c.setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, words, 32);
    }
  }
  let boundIdentifier: number | null = null;
  if (kind === "datagram") {
    // Bind to "port" 0: the kernel picks the identifier now, and getsockname tells which.
    const name = sockaddr(family, family === 4 ? new Uint8Array(4) : new Uint8Array(16));
    if (c.bind(fd, name, name.length) !== 0) {
      const errno = lastErrno(c);
      c.close(fd);
      return { ok: false, errno, reason: `bind(ICMP datagram socket): ${errnoText(errno)}` };
    }
    const out = new Uint8Array(28);
    const len = new Uint32Array([out.length]);
    if (c.getsockname(fd, out, len) === 0) boundIdentifier = (out[2]! << 8) | out[3]!;
  }
  return { ok: true, socket: new FfiIcmpSocket(c, fd, family, kind, boundIdentifier) };
}

/** A sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) for an address, port 0. */
function sockaddr(family: IcmpFamily, address: Uint8Array): Uint8Array {
  const out = new Uint8Array(family === 4 ? 16 : 28);
  writeSockaddr(out, family, address);
  return out;
}

function writeSockaddr(out: Uint8Array, family: IcmpFamily, address: Uint8Array): number {
  out.fill(0);
  // sa_family is in host byte order (little-endian on every Linux Bun runs on).
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint16(0, family === 4 ? AF_INET : AF_INET6, true);
  if (family === 4) {
    out.set(address, 4);
    return 16;
  }
  out.set(address, 8);
  return 28;
}

class FfiIcmpSocket implements IcmpSocket {
  private open = true;
  private readonly destination: Uint8Array;
  // recvmsg's buffers, allocated once; msghdr holds raw pointers to them, so they must never move:
  // each is created from its own ArrayBuffer and kept referenced by this object.
  private readonly data = new Uint8Array(new ArrayBuffer(RECEIVE_BUFFER));
  private readonly name = new Uint8Array(new ArrayBuffer(28));
  private readonly control = new Uint8Array(new ArrayBuffer(CONTROL_BUFFER));
  private readonly controlView = new DataView(this.control.buffer);
  private readonly iov = new ArrayBuffer(16);
  private readonly msghdr = new ArrayBuffer(56);
  private readonly msghdrView = new DataView(this.msghdr);
  private readonly msghdrBytes = new Uint8Array(this.msghdr);
  private readonly source: Uint8Array;

  constructor(
    private readonly c: Libc,
    readonly fd: number,
    readonly family: IcmpFamily,
    readonly kind: IcmpSocketKind,
    readonly boundIdentifier: number | null,
  ) {
    this.destination = new Uint8Array(family === 4 ? 16 : 28);
    this.source = new Uint8Array(family === 4 ? 4 : 16);
    const iov = new DataView(this.iov);
    iov.setBigUint64(0, BigInt(ptr(this.data)), true);
    iov.setBigUint64(8, BigInt(RECEIVE_BUFFER), true);
    // struct msghdr (LP64): name, namelen, iov, iovlen, control, controllen, flags.
    const m = this.msghdrView;
    m.setBigUint64(0, BigInt(ptr(this.name)), true);
    m.setBigUint64(16, BigInt(ptr(new Uint8Array(this.iov))), true);
    m.setBigUint64(24, 1n, true);
    m.setBigUint64(32, BigInt(ptr(this.control)), true);
  }

  send(message: Uint8Array, address: Uint8Array): number {
    if (!this.open) return 9; // EBADF
    const len = writeSockaddr(this.destination, this.family, address);
    const sent = this.c.sendto(this.fd, message, message.length, 0, this.destination, len);
    if (sent >= 0) return 0;
    return lastErrno(this.c) || EAGAIN;
  }

  receive(): IcmpDatagram | null {
    if (!this.open) return null;
    const m = this.msghdrView;
    m.setUint32(8, this.name.length, true);
    m.setBigUint64(40, BigInt(CONTROL_BUFFER), true);
    m.setInt32(48, 0, true);
    const n = this.c.recvmsg(this.fd, this.msghdrBytes, MSG_DONTWAIT);
    if (n < 0) return null; // EAGAIN when drained; any other error also ends this read
    const length = Math.min(Number(n), RECEIVE_BUFFER);
    let message = this.data.subarray(0, length);
    if (this.family === 4) {
      this.source.set(this.name.subarray(4, 8));
      if (this.kind === "raw") {
        const headerLength = ((message[0] ?? 0) & 0x0f) * 4;
        if (headerLength < 20 || headerLength > length) return { message: message.subarray(0, 0), source: this.source, receivedAtMs: null };
        message = message.subarray(headerLength);
      }
    } else {
      this.source.set(this.name.subarray(8, 24));
    }
    return { message, source: this.source, receivedAtMs: this.timestamp() };
  }

  /** The SCM_TIMESTAMPNS control message, as ms on CLOCK_REALTIME. */
  private timestamp(): number | null {
    const controlLength = Math.min(Number(this.msghdrView.getBigUint64(40, true)), CONTROL_BUFFER);
    const v = this.controlView;
    let offset = 0;
    while (offset + 16 <= controlLength) {
      const len = Number(v.getBigUint64(offset, true));
      if (len < 16) break;
      const level = v.getInt32(offset + 8, true);
      const type = v.getInt32(offset + 12, true);
      if (level === SOL_SOCKET && type === SO_TIMESTAMPNS && offset + 32 <= controlLength) {
        return Number(v.getBigInt64(offset + 16, true)) * 1000 + Number(v.getBigInt64(offset + 24, true)) / 1e6;
      }
      offset += (len + 7) & ~7;
    }
    return null;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.c.close(this.fd);
  }
}

/** The Internet checksum (RFC 1071) of `bytes`, as a 16-bit number to write big-endian. */
export function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (even !== bytes.length) sum += bytes[even]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
