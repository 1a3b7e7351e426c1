// Serves GET /metrics in Prometheus text format on metrics.address; nothing else is there.

import type { Registry } from "prom-client";
import type { HostPort } from "../config/types.ts";
import { StartupError, errorMessage } from "../lib/errors.ts";

export interface MetricsServer {
  /** The bound port (differs from the configured one when that was 0). */
  port: number;
  stop(): void;
}

export function startMetrics(registry: Registry, address: HostPort): MetricsServer {
  try {
    const server = Bun.serve({
      hostname: address.host,
      port: address.port,
      fetch: (request) => respond(registry, request),
    });
    return { port: server.port!, stop: () => server.stop(true) };
  } catch (err) {
    const where = `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
    throw new StartupError(`cannot serve metrics on ${where} (metrics.address): ${errorMessage(err)}`);
  }
}

/** The whole HTTP surface, apart from the socket (tests call it directly). */
export async function respond(registry: Registry, request: Request): Promise<Response> {
  if (new URL(request.url).pathname !== "/metrics") return new Response("not found: metrics are at /metrics\n", { status: 404 });
  if (request.method !== "GET") return new Response("method not allowed: use GET\n", { status: 405, headers: { allow: "GET" } });
  try {
    return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
  } catch (err) {
    // A metric that fails to collect must not take the endpoint down with a bare 500 and no reason.
    return new Response(`collecting metrics failed: ${errorMessage(err)}\n`, { status: 500 });
  }
}
