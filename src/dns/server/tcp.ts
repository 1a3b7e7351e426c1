// DNS over TCP (RFC 7766): 2-byte length-prefixed messages, several per connection, answered in
// order; idle connections close; past the connection cap new ones are closed at once.

import type { Socket } from "bun";
import type { HostPort } from "../../config/types.ts";
import type { DnsPipeline } from "./pipeline.ts";
import type { Listener } from "./udp.ts";

export interface TcpLimits {
  idleTimeoutMs: number;
  maxConnections: number;
}

interface Connection {
  pending: Uint8Array;
  /** Bytes the kernel did not take yet; written on drain, in order. */
  unsent: Uint8Array[];
}

export async function listenTcp(address: HostPort, pipeline: () => DnsPipeline, limits: () => TcpLimits): Promise<Listener & { connections(): number }> {
  let open = 0;
  const server = Bun.listen<Connection>({
    hostname: address.host,
    port: address.port,
    socket: {
      open(socket) {
        if (open >= limits().maxConnections) {
          socket.end();
          return;
        }
        open++;
        socket.data = { pending: new Uint8Array(0), unsent: [] };
        socket.timeout(Math.max(1, Math.ceil(limits().idleTimeoutMs / 1000)));
      },
      data(socket, chunk) {
        const conn = socket.data;
        if (!conn) return;
        conn.pending = conn.pending.length ? concat(conn.pending, chunk) : chunk;
        let offset = 0;
        while (conn.pending.length - offset >= 2) {
          const length = (conn.pending[offset]! << 8) | conn.pending[offset + 1]!;
          if (conn.pending.length - offset - 2 < length) break;
          const message = conn.pending.subarray(offset + 2, offset + 2 + length);
          offset += 2 + length;
          const response = pipeline().handle(message, socket.remoteAddress, "tcp");
          if (response) send(socket, conn, framed(response));
        }
        conn.pending = offset === conn.pending.length ? new Uint8Array(0) : conn.pending.slice(offset);
      },
      drain(socket) {
        const conn = socket.data;
        while (conn && conn.unsent.length > 0) {
          const next = conn.unsent[0]!;
          const written = socket.write(next);
          if (written < next.length) {
            conn.unsent[0] = next.subarray(written);
            return;
          }
          conn.unsent.shift();
        }
      },
      timeout(socket) {
        socket.end();
      },
      close(socket) {
        if (socket.data) open--;
        socket.data = undefined as unknown as Connection;
      },
      error() {},
    },
  });
  return { address, port: server.port, close: () => server.stop(true), connections: () => open };
}

function send(socket: Socket<Connection>, conn: Connection, bytes: Uint8Array): void {
  if (conn.unsent.length > 0) {
    conn.unsent.push(bytes);
    return;
  }
  const written = socket.write(bytes);
  if (written < bytes.length) conn.unsent.push(bytes.subarray(Math.max(0, written)));
}

function framed(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 2);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
