// One end of a relayed connection, seen the same way whether it is a Bun socket (plain TCP, and
// every backend) or a node:tls socket (a client whose TLS we terminate).
//
// Backpressure: when a peer cannot take a chunk at once, it keeps the rest and `send` says false;
// the relay then pauses reading from the other end until `drained` says everything went out. So at
// most about one read's worth of bytes (what arrived before the pause took effect) waits per direction.

import type { Socket } from "bun";
import type { TLSSocket } from "node:tls";

export interface Peer {
  /** Sends a chunk; false when part of it is held back: stop reading the other end until drained(). */
  send(chunk: Uint8Array): boolean;
  /** Called when the socket can take more; true once nothing is held back any longer. */
  drained(): boolean;
  pause(): void;
  resume(): void;
  /** Ends the stream (FIN) once whatever is held back has been sent. */
  finish(): void;
  /** Closes now, dropping whatever is held back. */
  destroy(): void;
}

/**
 * Where a client is and what it connected to. Each is a system call on the socket, so they are read
 * only when needed: access rules, iphash, a PROXY header, a log line.
 */
export interface ClientOrigin {
  address(): string;
  port(): number;
  localAddress(): string;
  localPort(): number;
}

export type ClientPeer = Peer & ClientOrigin;

export class SocketPeer implements ClientPeer {
  private held: Uint8Array | undefined;
  private finishing = false;

  constructor(readonly socket: Socket<unknown>) {}

  send(chunk: Uint8Array): boolean {
    if (this.held) {
      // Only bytes that were already on their way when the other end was paused land here.
      this.held = concat(this.held, chunk);
      return false;
    }
    const written = this.socket.write(chunk);
    // -1: the socket is closed; its close event ends the relay, so the bytes have nowhere to go.
    if (written === chunk.length || written < 0) return true;
    this.held = chunk.subarray(written);
    return false;
  }

  drained(): boolean {
    const held = this.held;
    if (!held) return true;
    const written = this.socket.write(held);
    if (written >= 0 && written < held.length) {
      this.held = held.subarray(written);
      return false;
    }
    this.held = undefined;
    if (this.finishing) this.socket.end();
    return true;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  finish(): void {
    this.finishing = true;
    if (!this.held) this.socket.end();
  }

  destroy(): void {
    this.held = undefined;
    this.socket.terminate();
  }

  address(): string {
    return this.socket.remoteAddress;
  }

  port(): number {
    return this.socket.remotePort;
  }

  localAddress(): string {
    return this.socket.localAddress;
  }

  localPort(): number {
    return this.socket.localPort;
  }
}

/** A node:tls socket: it queues every write itself and says false, then emits "drain", when its queue is full. */
export class StreamPeer implements ClientPeer {
  constructor(readonly stream: TLSSocket) {}

  send(chunk: Uint8Array): boolean {
    return this.stream.write(chunk);
  }

  drained(): boolean {
    return true;
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  finish(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  address(): string {
    return this.stream.remoteAddress ?? "";
  }

  port(): number {
    return this.stream.remotePort ?? 0;
  }

  localAddress(): string {
    return this.stream.localAddress ?? "";
  }

  localPort(): number {
    return this.stream.localPort ?? 0;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
