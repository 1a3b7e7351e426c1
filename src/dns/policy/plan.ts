// A service prepared for the answer path: addresses parsed to bytes once, per family, and the
// healthy subset memoized per snapshot version so a query does no string work.

import type { ServiceConfig, WhenAllDown, PolicyName } from "../../config/types.ts";
import type { HealthSnapshot } from "../../health/snapshot.ts";
import { parseIp } from "../../lib/cidr.ts";

export type Family = 4 | 6;

export interface Endpoint {
  /** Index in the service's backend list: stable identity for cache variants. */
  index: number;
  address: string;
  port: number;
  bytes: Uint8Array;
  weight: number;
  priority: number;
  region?: string;
}

export interface ServicePlan {
  fqdn: string;
  policy: PolicyName;
  maxAnswers: number;
  whenAllDown: WhenAllDown;
  endpoints: Record<Family, Endpoint[]>;
  fallback: Record<Family, Endpoint[]>;
  /** Rotation counter for roundrobin; lives as long as the plan. */
  turn: number;
  healthyMemo: { version: number; healthy: Record<Family, Endpoint[]>; anyUp: boolean } | null;
}

export function planService(service: ServiceConfig): ServicePlan {
  const endpoints: Endpoint[] = service.backends.map((b, index) => ({
    index,
    address: b.address,
    port: b.port,
    bytes: parseIp(b.address)!,
    weight: b.weight,
    priority: b.priority,
    region: b.region,
  }));
  const fallbackAddresses = service.when_all_down.mode === "fallback" ? service.when_all_down.addresses : [];
  const fallback = fallbackAddresses.map((address, i) => ({
    index: 10_000 + i,
    address,
    port: 0,
    bytes: parseIp(address)!,
    weight: 1,
    priority: 0,
  }));
  return {
    fqdn: service.fqdn,
    policy: service.policy,
    maxAnswers: service.max_answers,
    whenAllDown: service.when_all_down,
    endpoints: byFamily(endpoints),
    fallback: byFamily(fallback),
    turn: 0,
    healthyMemo: null,
  };
}

function byFamily(list: Endpoint[]): Record<Family, Endpoint[]> {
  return { 4: list.filter((e) => e.bytes.length === 4), 6: list.filter((e) => e.bytes.length === 16) };
}

/** The up endpoints of each family under this snapshot, computed once per snapshot version. */
export function healthyOf(plan: ServicePlan, snapshot: HealthSnapshot): { healthy: Record<Family, Endpoint[]>; anyUp: boolean } {
  const memo = plan.healthyMemo;
  if (memo && memo.version === snapshot.version) return memo;
  const up = (e: Endpoint) => snapshot.isUp(plan.fqdn, e.address, e.port);
  const healthy = { 4: plan.endpoints[4].filter(up), 6: plan.endpoints[6].filter(up) };
  const fresh = { version: snapshot.version, healthy, anyUp: healthy[4].length + healthy[6].length > 0 };
  plan.healthyMemo = fresh;
  return fresh;
}
