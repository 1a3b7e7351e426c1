// Serves the API app with Bun.serve on api.address, handing the client's address to the app.

import type { Hono } from "hono";
import type { HostPort } from "../config/types.ts";
import { StartupError, errorMessage } from "../lib/errors.ts";
import type { ApiEnv } from "./app.ts";

export interface ApiServer {
  port: number;
  stop(): void;
}

export function serveApi(app: Hono<ApiEnv>, address: HostPort): ApiServer {
  try {
    const server = Bun.serve({
      hostname: address.host,
      port: address.port,
      fetch: (request, srv) => app.fetch(request, { clientAddress: srv.requestIP(request)?.address }),
    });
    return { port: server.port!, stop: () => server.stop(true) };
  } catch (err) {
    throw new StartupError(`cannot serve the API on ${address.host}:${address.port}: ${errorMessage(err)}`);
  }
}
