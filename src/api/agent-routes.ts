// Agents (overwatch mode): who is registered, and an operator's re-key.
//   GET  /api/v1/agents                      registered agents, their pinned keys and freshness
//   POST /api/v1/agents/{agent_id}/rekey     {"ttl": "1h"}: the next new key this agent presents
//                                            replaces its pin, once, within ttl (trust on first use
//                                            again, for a reinstalled agent)

import { Hono } from "hono";
import type { AgentRegistry } from "../health/agent-registry.ts";
import type { ApiEnv } from "./app.ts";
import { readJsonObject } from "./body.ts";
import { notFound } from "./errors.ts";

const DEFAULT_REKEY_MS = 3_600_000;

export function agentRoutes(registry: () => AgentRegistry | undefined, now: () => number): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const need = () => registry() ?? (() => { throw notFound("agents register with overwatches only (mode: overwatch)"); })();

  app.get("/api/v1/agents", (c) => {
    const at = now();
    const agents = need();
    const iso = (ms: number) => new Date(ms).toISOString();
    return c.json({
      agents: agents.agents(at).map((a) => ({
        agent_id: a.agentId,
        region: a.region || null,
        public_key: a.publicKey,
        services: a.services,
        registered_at: iso(a.registeredAt),
        last_seen: iso(a.lastSeen),
        stale: a.stale,
        backends: a.backends,
      })),
      counts: agents.counts(at),
    });
  });

  app.post("/api/v1/agents/:agent_id/rekey", async (c) => {
    const agents = need();
    const id = c.req.param("agent_id");
    const body = await readJsonObject(c);
    const ttl = body.has("ttl") ? body.duration("ttl") : DEFAULT_REKEY_MS;
    body.done();
    const until = now() + ttl;
    c.set("audit", `allow re-key of agent ${id} until ${new Date(until).toISOString()}`);
    if (!agents.allowRekey(id, until)) throw notFound(`no pinned agent ${id}`);
    return c.json({ agent_id: id, rekey_allowed_until: new Date(until).toISOString() });
  });

  return app;
}
