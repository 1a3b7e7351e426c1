// Serves the API app with Bun.serve on api.address, handing the client's address to the app.

import type { Hono } from "hono";
import type { HostPort } from "../config/types.ts";
import { StartupError, errorMessage } from "../lib/errors.ts";
import { BODY_LIMIT_BYTES, type ApiEnv } from "./app.ts";

export interface ApiServer {
  port: number;
  /** Serves another app on the same socket (a reload that kept the address): nothing is refused meanwhile. */
  swap(app: Hono<ApiEnv>): void;
  stop(): void;
}

export function serveApi(app: Hono<ApiEnv>, address: HostPort): ApiServer {
  const handler = (current: Hono<ApiEnv>) => (request: Request, server: Bun.Server<undefined>) =>
    current.fetch(request, { clientAddress: server.requestIP(request)?.address });
  try {
    const server = Bun.serve({
      hostname: address.host,
      port: address.port,
      // The app answers 413 above BODY_LIMIT_BYTES; this only stops a body far past it being read at all.
      maxRequestBodySize: BODY_LIMIT_BYTES * 4,
      fetch: handler(app),
    });
    return {
      port: server.port!,
      swap: (next) => server.reload({ fetch: handler(next) }),
      stop: () => server.stop(true),
    };
  } catch (err) {
    throw new StartupError(`cannot serve the API on ${address.host}:${address.port}: ${errorMessage(err)}`);
  }
}
