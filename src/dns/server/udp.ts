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
    try {
      // Fewer sent than queued means the kernel's send buffer is full: those replies are dropped,
      // as UDP may, and the clients retry.
      const sent = socket.sendMany(batch);
      sendFailures += batch.length / 3 - sent;
    } catch {
      // A pending ICMP error (an earlier client's port is gone) fails the whole call: send the
      // batch one by one so the other clients still get their answers.
      for (let i = 0; i < batch.length; i += 3) {
        try {
          socket.send(batch[i] as Uint8Array, batch[i + 1] as number, batch[i + 2] as string);
        } catch {
          sendFailures++;
        }
      }
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
