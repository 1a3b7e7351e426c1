// Overrides, as the deployment guide shows them:
//   PUT    /api/v1/overrides/{service}/{address}  {"healthy": false, "reason": "...", "ttl": "30m" | "expires_at": ISO}
//   DELETE /api/v1/overrides/{service}/{address}
//   GET    /api/v1/overrides[/{service}/{address}]
// An override is stored before it takes effect, and the answers change at once.

import { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "./app.ts";
import { readJsonObject } from "./body.ts";
import { badField, notFound } from "./errors.ts";
import { presentOverride } from "./present.ts";
import { findBackendAddress, findService } from "./services.ts";

const REASON_MAX = 500;

export function overrideRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const target = (service: string, address: string) => {
    const found = findService(deps.services(), service);
    return { service: found.fqdn, address: findBackendAddress(found, address) };
  };

  app.get("/api/v1/overrides", (c) => c.json({ overrides: deps.health.overrides().map(presentOverride) }));

  app.get("/api/v1/overrides/:service/:address", (c) => {
    const { service, address } = target(c.req.param("service"), c.req.param("address"));
    const override = deps.health.overrides().find((o) => o.service === service && o.address === address);
    if (!override) throw notFound(`no override for ${address} in ${service}`);
    return c.json({ override: presentOverride(override) });
  });

  app.put("/api/v1/overrides/:service/:address", async (c) => {
    const { service, address } = target(c.req.param("service"), c.req.param("address"));
    const body = await readJsonObject(c);
    const healthy = body.boolean("healthy");
    const reason = body.string("reason", REASON_MAX);
    const now = deps.now();
    let expiresAt: number | undefined;
    if (body.has("ttl") && body.has("expires_at")) throw badField("ttl", "give ttl or expires_at, not both");
    if (body.has("ttl")) expiresAt = now + body.duration("ttl");
    else if (body.has("expires_at")) {
      expiresAt = body.time("expires_at");
      if (expiresAt <= now) throw badField("expires_at", "is in the past");
    }
    body.done();
    c.set("audit", `${service} ${address} healthy=${healthy}${expiresAt ? ` until ${new Date(expiresAt).toISOString()}` : ""}: ${reason}`);
    const override = { service, address, healthy, reason, createdAt: now, expiresAt };
    deps.health.setOverride(override);
    return c.json({ override: presentOverride(override) });
  });

  app.delete("/api/v1/overrides/:service/:address", (c) => {
    const { service, address } = target(c.req.param("service"), c.req.param("address"));
    c.set("audit", `${service} ${address} cleared`);
    if (!deps.health.clearOverride(service, address)) throw notFound(`no override for ${address} in ${service}`);
    return c.json({ cleared: true });
  });

  return app;
}
