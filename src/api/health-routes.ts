// Liveness, readiness, and the health model: services, backends, why each is in or out, and the
// events that got it there.

import { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "./app.ts";
import { presentBackend, presentEvent } from "./present.ts";
import { findBackendAddress, findService } from "./services.ts";

const RECENT_EVENTS = 20;

export function healthRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/health", (c) => c.json({ status: "ok", version: deps.version }));

  app.get("/api/v1/ready", (c) => {
    const ready = deps.health.isReady();
    return c.json({ ready, zones_loaded: true, probes: deps.probeStats() }, ready ? 200 : 503);
  });

  app.get("/api/v1/services", (c) => {
    const backends = deps.health.view();
    return c.json({
      services: deps.services().map((s) => ({
        name: s.name,
        fqdn: s.fqdn,
        zone: s.zone,
        policy: s.policy,
        ttl: s.ttl,
        when_all_down: s.when_all_down,
        backends: backends.filter((b) => b.service === s.fqdn).map(presentBackend),
      })),
    });
  });

  app.get("/api/v1/backends", (c) => c.json({ backends: deps.health.view().map(presentBackend) }));

  app.get("/api/v1/backends/healthy", (c) =>
    c.json({ backends: deps.health.view().filter((b) => b.state === "up").map(presentBackend) }),
  );

  app.get("/api/v1/backends/:service/:address", (c) => {
    const service = findService(deps.services(), c.req.param("service"));
    const address = findBackendAddress(service, c.req.param("address"));
    const ports = deps.health.view().filter((b) => b.service === service.fqdn && b.address === address);
    const override = ports[0]?.override;
    return c.json({
      service: service.fqdn,
      address,
      // One entry per port: each has its own probe verdict and state.
      backends: ports.map((b) => ({
        ...presentBackend(b),
        inputs: {
          override: override ? { healthy: override.healthy, reason: override.reason } : null,
          agent_claim: null, // agents arrive with gossip
          own_verdict: b.watched ? { verdict: b.verdict, detail: b.verdictDetail } : null,
          peer_verdicts: [], // peers arrive with gossip
        },
      })),
      events: deps.history
        .events({ service: service.fqdn, address, newestFirst: {}, limit: RECENT_EVENTS })
        .map(presentEvent),
    });
  });

  return app;
}
