// The REST API as a hono app built by a function: no port inside, so tests call app.request().
// Every request must come from api.allowed_networks; the server passes the client's address in env.

import { Hono } from "hono";
import { cidrContains, parseCidr, parseIp, type Cidr } from "../lib/cidr.ts";
import type { BackendView } from "../health/engine.ts";

export interface ApiEnv {
  Bindings: { clientAddress?: string };
}

export interface ApiDeps {
  allowedNetworks: readonly string[];
  ready(): boolean;
  /** The probe scheduler's figures: targets, running, queued, skipped overlaps, start lateness. */
  probeStats(): unknown;
  backends(): BackendView[];
  services(): { fqdn: string; policy: string; ttl: number }[];
  version: string;
  /** More routes (DNSSEC), mounted behind the same access check. */
  mount?: Hono<ApiEnv>[];
}

export function buildApi(deps: ApiDeps): Hono<ApiEnv> {
  const allowed: Cidr[] = deps.allowedNetworks.map(parseCidr);
  const app = new Hono<ApiEnv>();

  app.use("*", async (c, next) => {
    const address = parseIp(unmapped(c.env?.clientAddress ?? ""));
    if (!address || !allowed.some((n) => cidrContains(n, address))) {
      return c.json({ error: "forbidden: client address not in api.allowed_networks" }, 403);
    }
    await next();
  });

  app.get("/api/v1/health", (c) => c.json({ status: "ok", version: deps.version }));

  app.get("/api/v1/ready", (c) => {
    const ready = deps.ready();
    return c.json({ ready, probes: deps.probeStats() }, ready ? 200 : 503);
  });

  app.get("/api/v1/services", (c) => {
    const backends = deps.backends();
    return c.json({
      services: deps.services().map((s) => ({
        ...s,
        backends: backends.filter((b) => b.service === s.fqdn).map(present),
      })),
    });
  });

  for (const routes of deps.mount ?? []) app.route("/", routes);

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  return app;
}

function present(b: BackendView) {
  return {
    address: b.address,
    port: b.port,
    state: b.state,
    reason: b.reason,
    since: new Date(b.since).toISOString(),
    verdict: b.verdict,
    last_probe: b.verdictDetail,
    watched: b.watched,
    held_out_until: b.heldOutUntil === undefined ? null : new Date(b.heldOutUntil).toISOString(),
    recent_changes: b.recentChanges,
    override: b.override ? { healthy: b.override.healthy, reason: b.override.reason } : null,
  };
}

/** "::ffff:127.0.0.1" (a v4 client on a dual-stack socket) → "127.0.0.1". */
function unmapped(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
