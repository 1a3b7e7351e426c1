// One short TCP or TLS exchange for a probe: connect, write a request, read until the reply decides.
//
// The connection always ends with a reset (SO_LINGER 0), never a FIN: a prober that closed
// thousands of connections a second the polite way would hold each one in TIME_WAIT for a minute
// (2,000 probes/s leave ~120,000 such sockets) and spend two more packets per check. HAProxy ends
// its http checks the same way (haproxy/haproxy#560).

import type { Socket } from "bun";
import type { ProbeTarget } from "../types.ts";
import { describeError, down, untilAborted, type Verdict } from "./result.ts";

export interface Exchange {
  /** Bytes written once the connection (and the TLS handshake, if any) is up. */
  request?: Uint8Array;
  /** The verdict as soon as the connection is up, before any reply; undefined waits for data. */
  opened?(): Verdict | undefined;
  /** Each chunk that arrives; a verdict ends the exchange. A throw is a down verdict with its message. */
  received(chunk: Uint8Array): Verdict | undefined;
  /** The peer closed (or half-closed) before a verdict. */
  closed(): Verdict;
}

export interface TlsSettings {
  rejectUnauthorized: boolean;
  serverName: string | undefined;
}

export async function converse(target: ProbeTarget, exchange: Exchange, signal: AbortSignal, tls?: TlsSettings): Promise<Verdict> {
  let unsent = exchange.request ?? new Uint8Array();
  let settle!: (verdict: Verdict) => void;
  const verdict = new Promise<Verdict>((resolve) => (settle = resolve));

  const writeSome = (socket: Socket) => {
    if (unsent.length > 0) unsent = unsent.subarray(Math.max(0, socket.write(unsent)));
  };
  const start = (socket: Socket) => {
    writeSome(socket);
    const early = exchange.opened?.();
    if (early) settle(early);
  };
  const decide = (judge: () => Verdict | undefined) => {
    try {
      const found = judge();
      if (found) settle(found);
    } catch (err) {
      settle(down(describeError(err)));
    }
  };

  const socket = await Bun.connect({
    hostname: target.address,
    port: target.port,
    // An empty server name sends none; left out, the address would go as SNI, which TLS forbids.
    tls: tls && { rejectUnauthorized: tls.rejectUnauthorized, serverName: tls.serverName ?? "" },
    socket: {
      open: (socket) => (tls ? undefined : start(socket)),
      // With TLS, open comes before the handshake; writing then would be lost. `success` is false for
      // an unverified certificate too, which is fine when verification is off.
      handshake: (socket, success, authorizationError) =>
        success || (!tls!.rejectUnauthorized && !handshakeFailed(authorizationError))
          ? start(socket)
          : settle(down(describeTlsError(authorizationError))),
      drain: writeSome,
      data: (_socket, chunk) => decide(() => exchange.received(chunk)),
      end: () => decide(() => exchange.closed()),
      close: () => decide(() => exchange.closed()),
      error: (_socket, err) => settle(down(describeError(err))),
    },
  });
  try {
    return await untilAborted(verdict, signal);
  } finally {
    socket.terminate();
  }
}

/** The handshake itself failed (not TLS, no shared cipher...), as opposed to a certificate that did not verify. */
function handshakeFailed(err: Error | null): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code !== "string" || code === "EPROTO";
}

// BoringSSL's verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID...) say what is wrong.
function describeTlsError(err: Error | null): string {
  return handshakeFailed(err) ? "TLS handshake failed" : `TLS certificate rejected: ${err!.message} (${(err as { code?: string }).code})`;
}
