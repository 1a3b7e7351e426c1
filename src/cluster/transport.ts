// How gossip reaches other nodes, so the protocol runs the same over real sockets (UDP for packets,
// TCP for streams) and over the in-memory network the tests use. Addresses are "host:port" strings.
// Bytes handed over are already encrypted; a transport neither parses nor trusts them.

export type PacketHandler = (data: Uint8Array, from: string) => void;
export type StreamHandler = (stream: Stream) => void;

/** Frames larger than this are refused on write and on read, so a peer cannot make us buffer without end. */
export const MAX_STREAM_FRAME_BYTES = 8 * 1024 * 1024;

/** A reliable, ordered, framed conversation with one peer (a TCP connection with length-prefixed frames). */
export interface Stream {
  readonly remoteAddress: string;
  /** Queues one frame; throws only if the stream is closed or the frame is too large. */
  write(frame: Uint8Array): void;
  /** The next whole frame; rejects when the stream closes first or nothing arrives within timeoutMs. */
  read(timeoutMs: number): Promise<Uint8Array>;
  close(): void;
}

export interface Transport {
  /** The address this node is reached at, as other members should dial it. */
  readonly localAddress: string;
  /** Best effort, like UDP: never throws; a packet that cannot be sent is simply lost. */
  sendPacket(to: string, data: Uint8Array): void;
  /** Connects to a peer; rejects when it cannot be reached within timeoutMs. */
  openStream(to: string, timeoutMs: number): Promise<Stream>;
  /** Where incoming packets go; set once, before traffic starts. */
  onPacket(handler: PacketHandler): void;
  /** Where streams opened by peers go; set once, before traffic starts. */
  onStream(handler: StreamHandler): void;
  /** Stops receiving and releases sockets; open streams are closed. */
  close(): Promise<void>;
}
