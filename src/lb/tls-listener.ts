// The listener of a `tls` balancer server. Bun.listen takes one certificate only (its `tls` option
// refuses an array, unlike Bun.serve's), while node:tls's Server.addContext hands each server name
// to the same native listener, so BoringSSL picks the certificate during the handshake with no
// JavaScript callback per connection. Clients of this listener are node:tls sockets (streams);
// their relays treat them through StreamPeer. The name the client asked for routes by SNI afterwards.

import tls, { type TLSSocket } from "node:tls";
import type { LbServerConfig } from "../config/types.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { Logger } from "../lib/log.ts";
import type { Relay } from "./tcp-relay.ts";
import { StreamPeer } from "./tcp-peer.ts";
import { listenError, type Acceptor, type Listener } from "./tcp-listener.ts";
import { loadCertificates } from "./tls-certificates.ts";

/** Throws when a certificate cannot be used or the address cannot be bound. */
export function listenTls(config: LbServerConfig, acceptor: Acceptor, log: Logger): Listener {
  const certificates = loadCertificates(config.tls?.certificates ?? []);
  const server = tls.createServer({ ...certificates.fallback });
  for (const [name, pair] of certificates.byName) server.addContext(name, pair);
  const relays = new WeakMap<TLSSocket, Relay>();

  // "connection" comes before the handshake: refuse early, and count handshaking clients as open.
  server.on("connection", (socket: TLSSocket) => {
    const client = new StreamPeer(socket);
    if (!acceptor.admit(client)) {
      socket.destroy();
      return;
    }
    const relay = acceptor.open(client, true);
    relays.set(socket, relay);
    socket.on("data", (chunk: Uint8Array) => relay.fromClient(chunk));
    socket.on("drain", () => relay.clientDrained());
    socket.on("close", () => relay.clientClosed());
    socket.on("error", () => {
      // "close" follows and ends the relay; a failed handshake is counted by tlsClientError.
    });
    relay.start();
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    relays.get(socket)?.handshakeDone(typeof socket.servername === "string" && socket.servername !== "" ? socket.servername : undefined);
  });
  server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
    relays.get(socket)?.handshakeFailed(`TLS handshake: ${err.message}`);
  });

  // Bun binds inside listen() itself: `listening` tells at once whether it worked.
  server.listen(config.bind.port, config.bind.host);
  if (!server.listening) {
    server.once("error", () => {
      // Already reported by the throw below.
    });
    throw new Error(`lb server ${config.name}: cannot listen on ${formatHostPort(config.bind)}: ${bindFailure(config)}`);
  }
  server.on("error", (err) => log.error("lb tls listener error", { error: err.message }));
  const bound = server.address() as { address: string; port: number };
  return {
    address: () => formatHostPort({ host: bound.address, port: bound.port }),
    stop: () => server.close(),
  };
}

/** node:net reports why a bind failed only later; Bun.listen on the same address says it now. */
function bindFailure(config: LbServerConfig): string {
  try {
    Bun.listen({ hostname: config.bind.host, port: config.bind.port, socket: { data() {} } }).stop(true);
    return "the address could not be bound";
  } catch (err) {
    return listenError(err);
  }
}
