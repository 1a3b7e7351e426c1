// The policy stage: from a service, the health snapshot and the client, the endpoints to answer with.

import type { ClientSubnet } from "../wire/types.ts";
import { backendKey, type HealthSnapshot } from "../../health/snapshot.ts";
import { healthyOf, type Endpoint, type Family, type ServicePlan } from "./plan.ts";
import { failover, roundRobin, weighted, type Election } from "./electors.ts";
import type { GeoMap } from "./geo-map.ts";
import { parseIp } from "../../lib/cidr.ts";

export interface ClientInfo {
  /** The address the query came from, as the socket reports it; parsed only when a policy needs it. */
  remote: string;
  clientSubnet?: ClientSubnet;
}

export interface Selection extends Election {
  /** ECS scope prefix: how much of the client's address decided this answer (0: none of it). */
  scope: number;
  /** Why these endpoints, for operators (/resolve, logs). */
  reason: string;
}

export interface SelectContext {
  geo: GeoMap;
  random: () => number;
}

export function selectEndpoints(
  plan: ServicePlan,
  family: Family,
  snapshot: HealthSnapshot,
  client: ClientInfo,
  ctx: SelectContext,
): Selection {
  const { healthy, anyUp } = healthyOf(plan, snapshot);
  if (anyUp) {
    const pool = healthy[family];
    if (pool.length === 0) return none("no healthy backend of this address family");
    return elect(pool, plan, client, ctx, "healthy backends");
  }
  const mode = plan.whenAllDown.mode;
  switch (mode) {
    case "fail_closed":
      return none("all backends down: when_all_down fail_closed");
    case "fallback": {
      const endpoints = plan.fallback[family];
      return { endpoints, variant: "fallback", scope: 0, reason: "all backends down: fallback addresses" };
    }
    case "last_known_good": {
      const good = snapshot.lastKnownGood(plan.fqdn);
      const pool = good ? plan.endpoints[family].filter((e) => good.has(backendKey(plan.fqdn, e.address, e.port))) : [];
      if (pool.length > 0) return elect(pool, plan, client, ctx, "all backends down: last known good set");
      return electOrNone(plan.endpoints[family], plan, client, ctx, "all backends down, none known good: serving all");
    }
    case "fail_open":
      return electOrNone(plan.endpoints[family], plan, client, ctx, "all backends down: when_all_down fail_open serves all");
  }
}

function electOrNone(pool: Endpoint[], plan: ServicePlan, client: ClientInfo, ctx: SelectContext, reason: string): Selection {
  return pool.length > 0 ? elect(pool, plan, client, ctx, reason) : none(reason);
}

function none(reason: string): Selection {
  return { endpoints: [], variant: "none", scope: 0, reason };
}

function elect(pool: Endpoint[], plan: ServicePlan, client: ClientInfo, ctx: SelectContext, reason: string): Selection {
  switch (plan.policy) {
    case "roundrobin":
      return { ...roundRobin(pool, plan), scope: 0, reason };
    case "weighted":
      return { ...weighted(pool, plan, ctx.random), scope: 0, reason };
    case "failover":
      return { ...failover(pool, plan), scope: 0, reason };
    case "geo":
      return electByRegion(pool, plan, client, ctx, reason);
  }
}

/** The client's region if it has candidates, else the nearest region that does, else every candidate. */
function electByRegion(pool: Endpoint[], plan: ServicePlan, client: ClientInfo, ctx: SelectContext, reason: string): Selection {
  const subnet = client.clientSubnet;
  const located =
    subnet && subnet.sourcePrefix > 0
      ? ctx.geo.locate(padAddress(subnet), subnet.sourcePrefix)
      : locateResolver(ctx.geo, client.remote);
  const scope = subnet && subnet.sourcePrefix > 0 ? located.scope : 0;
  const home = located.region;
  if (home !== undefined) {
    for (const region of [home, ...ctx.geo.nearest(home)]) {
      const local = pool.filter((e) => e.region === region);
      if (local.length === 0) continue;
      const election = roundRobin(local, plan);
      const why = region === home ? `client in region ${home}` : `client in region ${home}, nearest with healthy backends: ${region}`;
      return { ...election, variant: `g${region}:${election.variant}`, scope, reason: `${reason}; ${why}` };
    }
  }
  const election = roundRobin(pool, plan);
  return { ...election, variant: `g*:${election.variant}`, scope, reason: `${reason}; client region unknown, serving all` };
}

function locateResolver(geo: GeoMap, remote: string) {
  const address = parseIp(remote);
  return address ? geo.locate(address, address.length * 8) : { region: undefined, scope: 0 };
}

function padAddress(subnet: ClientSubnet): Uint8Array {
  const full = new Uint8Array(subnet.family === 1 ? 4 : 16);
  full.set(subnet.address.subarray(0, full.length));
  return full;
}
