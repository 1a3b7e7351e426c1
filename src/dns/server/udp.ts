// A UDP listener: one datagram in, at most one out. The handler never throws (the pipeline says so),
// so a bad packet cannot take the socket down.

import type { HostPort } from "../../config/types.ts";
import type { DnsPipeline } from "./pipeline.ts";

export interface Listener {
  readonly address: HostPort;
  /** The bound port (differs from address.port when that was 0). */
  readonly port: number;
  close(): void;
}

export async function listenUdp(address: HostPort, pipeline: () => DnsPipeline): Promise<Listener & { sendFailures(): number }> {
  let sendFailures = 0;
  // Replies wait for the end of this turn of the event loop and leave in one sendmmsg call.
  let outbox: (Uint8Array | number | string)[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const batch = outbox;
    outbox = [];
    const total = batch.length / 3;
    let next = 0;
    while (next < total) {
      next += sendFrom(batch, next);
      if (next >= total) break;
      // sendmmsg stops at the first failure: a pending ICMP error (an earlier client's port is
      // gone, reported once and consumed) or a full send buffer. Retry that reply alone, then go on.
      if (!sendOne(batch, next) && !sendOne(batch, next)) sendFailures++;
      next++;
    }
  };
  const sendFrom = (batch: (Uint8Array | number | string)[], first: number): number => {
    try {
      return socket.sendMany(first === 0 ? batch : batch.slice(first * 3));
    } catch {
      return 0;
    }
  };
  const sendOne = (batch: (Uint8Array | number | string)[], i: number): boolean => {
    try {
      return socket.send(batch[i * 3] as Uint8Array, batch[i * 3 + 1] as number, batch[i * 3 + 2] as string);
    } catch {
      return false;
    }
  };
  const socket = await Bun.udpSocket({
    hostname: address.host,
    port: address.port,
    socket: {
      data(_socket, buf, port, addr) {
        const response = pipeline().handle(buf, addr, "udp");
        if (!response) return;
        outbox.push(response, port, addr);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      },
      error() {
        // The same ICMP errors can arrive on receive; nothing to do but keep serving.
        sendFailures++;
      },
    },
  });
  return { address, port: socket.port, close: () => socket.close(), sendFailures: () => sendFailures };
}
