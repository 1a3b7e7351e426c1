// How a balancer server accepts clients: the interfaces between a listener and its server, and the
// plain TCP listener (Bun.listen). The TLS-terminating one is in tls-listener.ts.

import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { LbServerConfig } from "../config/types.ts";
import { errorMessage } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { Relay } from "./tcp-relay.ts";
import { SocketPeer, type ClientOrigin, type ClientPeer } from "./tcp-peer.ts";

/** What the server needs of its listener, whichever kind it is. */
export interface Listener {
  /** "host:port" actually bound. */
  address(): string;
  /** Stops accepting; open connections are not touched. */
  stop(): void;
}

/** The accept side as a listener sees it. */
export interface Acceptor {
  /** Access rules and max_connections; counts the refusal when it says false. */
  admit(client: ClientOrigin): boolean;
  /** Takes an admitted client; `terminatesTls` when its TLS handshake is still to come. Call start() on the relay next. */
  open(client: ClientPeer, terminatesTls: boolean): Relay;
}

/** Plain TCP: one set of handlers for every client socket; `socket.data` is its relay once admitted. */
export function listenPlain(config: LbServerConfig, acceptor: Acceptor): Listener {
  const handlers: SocketHandler<Relay | undefined> = {
    open(socket) {
      const client = new SocketPeer(socket as Socket<unknown>);
      if (!acceptor.admit(client)) {
        socket.end();
        return;
      }
      const relay = acceptor.open(client, false);
      socket.data = relay;
      relay.start();
    },
    data(socket, chunk) {
      socket.data?.fromClient(chunk);
    },
    drain(socket) {
      socket.data?.clientDrained();
    },
    close(socket) {
      socket.data?.clientClosed();
    },
    error() {
      // The close event that follows ends the relay.
    },
  };
  let listener: TCPSocketListener<Relay | undefined>;
  try {
    listener = Bun.listen<Relay | undefined>({ hostname: config.bind.host, port: config.bind.port, data: undefined, socket: handlers });
  } catch (err) {
    throw new Error(`lb server ${config.name}: cannot listen on ${formatHostPort(config.bind)}: ${listenError(err)}`);
  }
  return {
    address: () => formatHostPort({ host: listener.hostname, port: listener.port }),
    stop: () => listener.stop(false),
  };
}

/** Bun's message alone ("Failed to listen at 127.0.0.1") does not say why; its code does. */
export function listenError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${code} (${errorMessage(err)})` : errorMessage(err);
}
