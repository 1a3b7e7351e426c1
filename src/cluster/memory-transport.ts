// An in-memory network for gossip tests: many nodes in one process, with per-link packet loss and
// delay, and partitions. Every delay runs on the injected clock and every coin toss on the injected
// random, so a run with a ManualClock and a seeded random is the same run every time.

import type { Clock } from "../lib/clock.ts";
import type { Random } from "./random.ts";
import { MAX_STREAM_FRAME_BYTES, type PacketHandler, type Stream, type StreamHandler, type Transport } from "./transport.ts";

export interface LinkConditions {
  /**
   * Probability, 0 to 1, that a packet on this link is lost. Streams lose nothing but pay for loss
   * the way TCP does: each lost segment is sent again after a retransmission timeout.
   */
  loss: number;
  /** One-way delay in milliseconds for packets and stream frames. */
  delayMs: number;
}

/** Tries before a stream gives up on a segment: a link that loses this many in a row is down. */
const TCP_TRIES = 6;

export interface NetworkStats {
  packetsSent: number;
  packetsDelivered: number;
  packetsLost: number;
  /** Dropped because sender and receiver were on different sides of a partition, or nobody listened. */
  packetsBlocked: number;
  streamsOpened: number;
}

export class MemoryNetwork {
  private readonly nodes = new Map<string, MemoryTransport>();
  private readonly links = new Map<string, Partial<LinkConditions>>();
  private sides: Map<string, number> | undefined;
  private readonly defaults: LinkConditions;
  readonly stats: NetworkStats = { packetsSent: 0, packetsDelivered: 0, packetsLost: 0, packetsBlocked: 0, streamsOpened: 0 };

  constructor(
    readonly clock: Clock,
    private readonly random: Random,
    defaults: Partial<LinkConditions> = {},
  ) {
    this.defaults = { loss: 0, delayMs: 1, ...defaults };
  }

  /** A transport for a node at `address`; the address must be free. */
  attach(address: string): MemoryTransport {
    if (this.nodes.has(address)) throw new Error(`memory network: ${address} is already attached`);
    const transport = new MemoryTransport(this, address);
    this.nodes.set(address, transport);
    return transport;
  }

  /** Changes the conditions from `from` to `to`, and back unless oneWay. */
  setLink(from: string, to: string, conditions: Partial<LinkConditions>, oneWay = false): void {
    this.links.set(`${from}>${to}`, { ...this.links.get(`${from}>${to}`), ...conditions });
    if (!oneWay) this.setLink(to, from, conditions, true);
  }

  /** Default loss and delay for every link without its own conditions. */
  setDefaults(conditions: Partial<LinkConditions>): void {
    Object.assign(this.defaults, conditions);
  }

  /** Splits the network: nodes in different groups cannot reach each other. Unlisted nodes reach everyone. */
  partition(...groups: string[][]): void {
    this.sides = new Map();
    groups.forEach((group, side) => group.forEach((address) => this.sides!.set(address, side)));
  }

  heal(): void {
    this.sides = undefined;
  }

  canReach(from: string, to: string): boolean {
    const a = this.sides?.get(from);
    const b = this.sides?.get(to);
    return a === undefined || b === undefined || a === b;
  }

  conditions(from: string, to: string): LinkConditions {
    return { ...this.defaults, ...this.links.get(`${from}>${to}`) };
  }

  /**
   * Extra delay TCP would add on this link for loss: a lost try is repeated after a timeout that
   * doubles each time (Linux starts at 1 s for a SYN, 200 ms for data). Undefined when every try
   * is lost, as on a link that drops everything.
   */
  retransmitDelay(from: string, to: string, what: "connect" | "data"): number | undefined {
    const forward = this.conditions(from, to).loss;
    const back = this.conditions(to, from).loss;
    // A handshake needs the SYN and the SYN-ACK through; data is counted one way.
    const arrives = what === "connect" ? (1 - forward) * (1 - back) : 1 - forward;
    let timeout = what === "connect" ? 1_000 : 200;
    let extra = 0;
    for (let attempt = 0; attempt < TCP_TRIES; attempt++) {
      if (arrives >= 1 || this.random() < arrives) return extra;
      extra += timeout;
      timeout *= 2;
    }
    return undefined;
  }

  /** @internal */
  detach(address: string): void {
    this.nodes.delete(address);
  }

  /** @internal */
  sendPacket(from: string, to: string, data: Uint8Array): void {
    this.stats.packetsSent++;
    const link = this.conditions(from, to);
    if (link.loss > 0 && this.random() < link.loss) {
      this.stats.packetsLost++;
      return;
    }
    const copy = data.slice();
    this.clock.setTimeout(() => {
      const target = this.nodes.get(to);
      // Reachability is judged on arrival, so a partition also catches packets already in flight.
      if (!target || !this.canReach(from, to)) {
        this.stats.packetsBlocked++;
        return;
      }
      this.stats.packetsDelivered++;
      target.receivePacket(copy, from);
    }, link.delayMs);
  }

  /** @internal */
  connect(from: string, to: string, timeoutMs: number): Promise<Stream> {
    return new Promise((resolve, reject) => {
      const retransmit = this.retransmitDelay(from, to, "connect");
      const delay = this.conditions(from, to).delayMs + (retransmit ?? 0);
      if (!this.canReach(from, to) || retransmit === undefined || delay > timeoutMs) {
        // As a SYN into a partition or through heavy loss: no answer in time, so the dialer waits out its timeout.
        this.clock.setTimeout(() => reject(new Error(`connect to ${to}: timed out after ${timeoutMs}ms`)), timeoutMs);
        return;
      }
      this.clock.setTimeout(() => {
        const target = this.nodes.get(to);
        if (!target) {
          reject(new Error(`connect to ${to}: connection refused`));
          return;
        }
        this.stats.streamsOpened++;
        const client = new MemoryStream(this, from, to);
        const server = new MemoryStream(this, to, from);
        client.peer = server;
        server.peer = client;
        target.acceptStream(server);
        resolve(client);
      }, delay);
    });
  }
}

export class MemoryTransport implements Transport {
  private packetHandler: PacketHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  private readonly streams = new Set<MemoryStream>();
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly localAddress: string,
  ) {}

  sendPacket(to: string, data: Uint8Array): void {
    if (!this.closed) this.network.sendPacket(this.localAddress, to, data);
  }

  async openStream(to: string, timeoutMs: number): Promise<Stream> {
    if (this.closed) throw new Error("transport is closed");
    const stream = (await this.network.connect(this.localAddress, to, timeoutMs)) as MemoryStream;
    this.track(stream);
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
    this.network.detach(this.localAddress);
    for (const stream of this.streams) stream.close();
  }

  /** @internal */
  receivePacket(data: Uint8Array, from: string): void {
    if (!this.closed) this.packetHandler?.(data, from);
  }

  /** @internal */
  acceptStream(stream: MemoryStream): void {
    if (this.closed || !this.streamHandler) {
      stream.close();
      return;
    }
    this.track(stream);
    this.streamHandler(stream);
  }

  private track(stream: MemoryStream): void {
    this.streams.add(stream);
    stream.onClose = () => this.streams.delete(stream);
  }
}

class MemoryStream implements Stream {
  peer: MemoryStream | undefined;
  onClose: (() => void) | undefined;
  private readonly inbox: Uint8Array[] = [];
  private reader: { resolve: (frame: Uint8Array) => void; reject: (err: Error) => void; cancel: () => void } | undefined;
  private closed = false;
  private peerClosed = false;
  /** When the last frame written arrives, so later ones queue behind it. */
  private lastDue = 0;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly localAddress: string,
    readonly remoteAddress: string,
  ) {}

  write(frame: Uint8Array): void {
    if (this.closed) throw new Error("stream is closed");
    if (frame.length > MAX_STREAM_FRAME_BYTES) throw new Error(`stream frame of ${frame.length} bytes is too large`);
    const copy = frame.slice();
    const peer = this.peer!;
    const retransmit = this.network.retransmitDelay(this.localAddress, this.remoteAddress, "data");
    // A link that loses everything never delivers; the reader times out, as over TCP.
    if (retransmit === undefined) return;
    // Frames stay in order, as TCP keeps them: none overtakes one still being retransmitted.
    const due = Math.max(this.lastDue, this.network.clock.now() + this.network.conditions(this.localAddress, this.remoteAddress).delayMs + retransmit);
    this.lastDue = due;
    this.network.clock.setTimeout(() => {
      // A partition that opened meanwhile swallows the frame.
      if (this.network.canReach(this.localAddress, this.remoteAddress)) peer.deliver(copy);
    }, due - this.network.clock.now());
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    const ready = this.inbox.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed || this.peerClosed) return Promise.reject(new Error("stream closed"));
    if (this.reader) return Promise.reject(new Error("stream already has a pending read"));
    return new Promise((resolve, reject) => {
      const timer = this.network.clock.setTimeout(() => {
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
    this.onClose?.();
    const peer = this.peer;
    if (!peer) return;
    const due = Math.max(this.lastDue, this.network.clock.now() + this.network.conditions(this.localAddress, this.remoteAddress).delayMs);
    this.network.clock.setTimeout(() => peer.remoteClosed(), due - this.network.clock.now());
  }

  private deliver(frame: Uint8Array): void {
    if (this.closed) return;
    const reader = this.reader;
    if (!reader) {
      this.inbox.push(frame);
      return;
    }
    this.reader = undefined;
    reader.cancel();
    reader.resolve(frame);
  }

  private remoteClosed(): void {
    this.peerClosed = true;
    if (this.inbox.length === 0) this.failReader("stream closed by peer");
  }

  private failReader(why: string): void {
    const reader = this.reader;
    if (!reader) return;
    this.reader = undefined;
    reader.cancel();
    reader.reject(new Error(why));
  }
}
