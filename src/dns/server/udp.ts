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
  const socket = await Bun.udpSocket({
    hostname: address.host,
    port: address.port,
    socket: {
      data(sock, buf, port, addr) {
        const response = pipeline().handle(buf, addr, "udp");
        if (!response) return;
        try {
          sock.send(response, port, addr);
        } catch {
          // An ICMP "port unreachable" from an earlier client surfaces here as ECONNREFUSED: that
          // client is gone, and this one must not take the socket down with it.
          sendFailures++;
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
