// The real network: packets over UDP (Bun.udpSocket), streams over TCP (Bun.listen / Bun.connect)
// with 4-byte big-endian length-prefixed frames. Both share one port, as memberlist's NetTransport
// does, so a peer is one "host:port". Peers may be named; names are resolved and cached briefly.

import { lookup } from "node:dns/promises";
import type { Socket, TCPSocketListener, udp } from "bun";
import { type Clock, systemClock } from "../lib/clock.ts";
import { parseIp } from "../lib/cidr.ts";
import { formatHostPort, parseHostPort } from "../lib/hostport.ts";
import { MAX_STREAM_FRAME_BYTES, type PacketHandler, type Stream, type StreamHandler, type Transport } from "./transport.ts";

export interface NetTransportOptions {
  /** Where to listen, as "host:port"; port 0 takes a free port (the same for UDP and TCP). */
  bindAddress: string;
  /** The address other members dial; needed when binding to every interface (0.0.0.0 or [::]). */
  advertiseAddress?: string;
  clock?: Clock;
}

/** How long a resolved peer name is trusted. */
const NAME_TTL_MS = 30_000;
/** Tries at finding a port free for both UDP and TCP when asked for port 0. */
const BIND_TRIES = 5;

export class NetTransport implements Transport {
  private packetHandler: PacketHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  private readonly streams = new Set<NetStream>();
  private readonly names = new Map<string, { ip: string; until: number }>();
  private closed = false;

  private constructor(
    readonly localAddress: string,
    private readonly udpSocket: udp.Socket<"uint8array">,
    private readonly listener: TCPSocketListener<NetStream | undefined>,
    private readonly clock: Clock,
  ) {}

  static async listen(options: NetTransportOptions): Promise<NetTransport> {
    const bind = parseHostPort(options.bindAddress);
    const unspecified = bind.host === "0.0.0.0" || bind.host === "::";
    if (unspecified && !options.advertiseAddress) {
      throw new Error(`gossip: binding to ${options.bindAddress} needs an advertise address other members can dial`);
    }
    const clock = options.clock ?? systemClock;
    // Late-bound: the sockets' callbacks need the transport, which needs the sockets.
    let transport: NetTransport | undefined;
    const { listener, udpSocket } = await bindBoth(bind, () => transport);
    const port = listener.port;
    const local = options.advertiseAddress ?? formatHostPort({ host: bind.host, port });
    transport = new NetTransport(local, udpSocket, listener, clock);
    return transport;
  }

  sendPacket(to: string, data: Uint8Array): void {
    if (this.closed) return;
    const target = safeParse(to);
    if (!target) return;
    if (parseIp(target.host)) {
      this.sendTo(data, target.port, target.host);
      return;
    }
    this.resolve(target.host)
      .then((ip) => this.sendTo(data, target.port, ip))
      .catch(() => {}); // an unresolvable name loses the packet, as UDP would
  }

  async openStream(to: string, timeoutMs: number): Promise<Stream> {
    if (this.closed) throw new Error("transport is closed");
    const target = parseHostPort(to);
    const host = parseIp(target.host) ? target.host : await this.resolve(target.host);
    const stream = new NetStream(to, this.clock, (s) => this.streams.delete(s));
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new Error(`connect to ${to}: timed out after ${timeoutMs}ms`)), timeoutMs);
    });
    const connecting = Bun.connect<NetStream>({ hostname: host, port: target.port, data: stream, socket: tcpHandlers });
    try {
      stream.attach(await Promise.race([connecting, timedOut]));
    } catch (err) {
      // A connection that comes up after we gave up is closed at once.
      connecting.then((socket) => socket.terminate(), () => {});
      throw err instanceof Error && err.message.startsWith("connect to") ? err : new Error(`connect to ${to}: ${describe(err)}`);
    } finally {
      timer?.cancel();
    }
    this.streams.add(stream);
    return stream;
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams) stream.close();
    this.udpSocket.close();
    this.listener.stop(true);
  }

  /** @internal */
  receivePacket(data: Uint8Array, port: number, address: string): void {
    if (!this.closed) this.packetHandler?.(data, formatHostPort({ host: address, port }));
  }

  /** @internal */
  acceptStream(socket: Socket<NetStream | undefined>): void {
    if (this.closed || !this.streamHandler) {
      socket.terminate();
      return;
    }
    const stream = new NetStream(formatHostPort({ host: socket.remoteAddress, port: socket.remotePort }), this.clock, (s) => this.streams.delete(s));
    socket.data = stream;
    stream.attach(socket as Socket<NetStream>);
    this.streams.add(stream);
    this.streamHandler(stream);
  }

  private sendTo(data: Uint8Array, port: number, host: string): void {
    try {
      this.udpSocket.send(data, port, host);
    } catch {
      // Unreachable networks and full buffers lose the packet; the protocol expects loss.
    }
  }

  private async resolve(name: string): Promise<string> {
    const cached = this.names.get(name);
    if (cached && cached.until > this.clock.now()) return cached.ip;
    const { address } = await lookup(name);
    this.names.set(name, { ip: address, until: this.clock.now() + NAME_TTL_MS });
    return address;
  }
}

/** One TCP connection carrying length-prefixed frames. */
class NetStream implements Stream {
  private socket: Socket<NetStream> | undefined;
  private pending: Uint8Array = new Uint8Array(0);
  private readonly inbox: Uint8Array[] = [];
  private readonly unsent: Uint8Array[] = [];
  private reader: { resolve: (frame: Uint8Array) => void; reject: (err: Error) => void; cancel: () => void } | undefined;
  private closed = false;
  private ended = false;

  constructor(
    readonly remoteAddress: string,
    private readonly clock: Clock,
    private readonly onClose: (stream: NetStream) => void,
  ) {}

  attach(socket: Socket<NetStream>): void {
    this.socket = socket;
    this.flush();
  }

  write(frame: Uint8Array): void {
    if (this.closed) throw new Error("stream is closed");
    if (frame.length > MAX_STREAM_FRAME_BYTES) throw new Error(`stream frame of ${frame.length} bytes is too large`);
    const framed = new Uint8Array(4 + frame.length);
    new DataView(framed.buffer).setUint32(0, frame.length);
    framed.set(frame, 4);
    this.unsent.push(framed);
    this.flush();
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    const ready = this.inbox.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed || this.ended) return Promise.reject(new Error("stream closed"));
    if (this.reader) return Promise.reject(new Error("stream already has a pending read"));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.reader = undefined;
        reject(new Error(`stream read: timed out after ${timeoutMs}ms`));
      }, timeoutMs);
      this.reader = { resolve, reject, cancel: () => timer.cancel() };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failReader("stream closed");
    // end() lets written frames drain first; terminate() would drop them.
    this.socket?.end();
    this.onClose(this);
  }

  /** @internal */
  flush(): void {
    const socket = this.socket;
    while (socket && this.unsent.length > 0) {
      const next = this.unsent[0]!;
      const written = socket.write(next);
      if (written < next.length) {
        this.unsent[0] = next.subarray(Math.max(0, written));
        return;
      }
      this.unsent.shift();
    }
  }

  /** @internal */
  receive(chunk: Uint8Array): void {
    this.pending = this.pending.length ? concat(this.pending, chunk) : chunk.slice();
    let offset = 0;
    while (this.pending.length - offset >= 4) {
      const length = new DataView(this.pending.buffer, this.pending.byteOffset + offset, 4).getUint32(0);
      if (length > MAX_STREAM_FRAME_BYTES) {
        // A peer announcing a frame this large is broken or hostile: hang up rather than buffer it.
        this.socket?.terminate();
        this.remoteEnded();
        return;
      }
      if (this.pending.length - offset - 4 < length) break;
      this.deliver(this.pending.slice(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.pending = offset === this.pending.length ? new Uint8Array(0) : this.pending.subarray(offset);
  }

  /** @internal */
  remoteEnded(): void {
    this.ended = true;
    if (this.inbox.length === 0) this.failReader("stream closed by peer");
  }

  private deliver(frame: Uint8Array): void {
    const reader = this.reader;
    if (!reader) {
      this.inbox.push(frame);
      return;
    }
    this.reader = undefined;
    reader.cancel();
    reader.resolve(frame);
  }

  private failReader(why: string): void {
    const reader = this.reader;
    if (!reader) return;
    this.reader = undefined;
    reader.cancel();
    reader.reject(new Error(why));
  }
}

const tcpHandlers = {
  data: (socket: Socket<NetStream>, chunk: Uint8Array) => socket.data.receive(chunk),
  drain: (socket: Socket<NetStream>) => socket.data.flush(),
  end: (socket: Socket<NetStream>) => socket.data.remoteEnded(),
  close: (socket: Socket<NetStream>) => socket.data.remoteEnded(),
  error: (socket: Socket<NetStream>) => socket.data.remoteEnded(),
};

async function bindBoth(bind: { host: string; port: number }, transport: () => NetTransport | undefined) {
  let lastError: unknown;
  for (let attempt = 0; attempt < (bind.port === 0 ? BIND_TRIES : 1); attempt++) {
    const listener = Bun.listen<NetStream | undefined>({
      hostname: bind.host,
      port: bind.port,
      data: undefined,
      socket: {
        open: (socket) => {
          const current = transport();
          if (current) current.acceptStream(socket);
          else socket.terminate();
        },
        data: (socket, chunk) => socket.data?.receive(chunk),
        drain: (socket) => socket.data?.flush(),
        end: (socket) => socket.data?.remoteEnded(),
        close: (socket) => socket.data?.remoteEnded(),
        error: (socket) => socket.data?.remoteEnded(),
      },
    });
    try {
      const udpSocket = await Bun.udpSocket({
        hostname: bind.host,
        port: listener.port,
        binaryType: "uint8array",
        socket: {
          data: (_socket, data, port, address) => transport()?.receivePacket(data, port, address),
          // A datagram to a closed port comes back as ECONNREFUSED on a later receive: that member
          // is gone, which the probes find out on their own.
          error: () => {},
        },
      });
      return { listener, udpSocket };
    } catch (err) {
      // Port 0 gave a TCP port whose UDP twin is taken: try another.
      listener.stop(true);
      lastError = err;
    }
  }
  throw new Error(`gossip: cannot bind UDP and TCP on ${formatHostPort(bind)}: ${describe(lastError)}`);
}

function safeParse(address: string): { host: string; port: number } | undefined {
  try {
    return parseHostPort(address);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
