// The cluster as this node sees it: the gossip members, and what each peer last reported.
//   GET /api/v1/cluster/members   404 when this node does not gossip (standalone mode)

import { Hono } from "hono";
import type { ApiEnv } from "./app.ts";
import { notFound } from "./errors.ts";

export interface ClusterView {
  members(): { name: string; address: string; state: string; incarnation: number; meta: { role: string; region: string }; since: number }[];
  stats(): { peers: { peer: string; fresh: boolean; at: number; down: number }[] } & Record<string, unknown>;
}

export function clusterRoutes(cluster: () => ClusterView | undefined): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/api/v1/cluster/members", (c) => {
    const view = cluster();
    if (!view) throw notFound("this node does not gossip (standalone mode)");
    const { peers, ...counters } = view.stats();
    return c.json({
      members: view.members().map((m) => ({
        name: m.name,
        address: m.address,
        state: m.state,
        incarnation: m.incarnation,
        role: m.meta.role,
        region: m.meta.region || null,
        since: new Date(m.since).toISOString(),
      })),
      peer_verdicts: peers.map((p) => ({ peer: p.peer, fresh: p.fresh, reported_at: new Date(p.at).toISOString(), backends_down: p.down })),
      counters,
    });
  });
  return app;
}
