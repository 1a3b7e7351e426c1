// Everything the answer path needs from the config, built once per (re)load as one value, so a
// reload swaps it whole and a query never sees half of an old config and half of a new one.

import type { Config } from "../../config/types.ts";
import { buildZones, type ZoneSet } from "../zone/build.ts";
import { planService, type ServicePlan } from "../policy/plan.ts";
import { GeoMap } from "../policy/geo-map.ts";

export interface AnswerEngine {
  zones: ZoneSet;
  plans: ReadonlyMap<string, ServicePlan>;
  geo: GeoMap;
  maxUdpSize: number;
  cacheEntries: number;
}

export function buildEngine(config: Config, serialFor: (zone: string, contentHash: string) => number): AnswerEngine {
  const zones = buildZones({
    dns: config.dns,
    services: config.services,
    serialFor,
    defaultNameserverAddresses: specificListenAddresses(config),
  });
  return {
    zones,
    plans: new Map(config.services.map((s) => [s.fqdn, planService(s)])),
    geo: new GeoMap(config.geo),
    maxUdpSize: config.dns.max_udp_size,
    cacheEntries: config.dns.response_cache.max_entries,
  };
}

/** Listen addresses usable as glue for a synthesized NS: not wildcards. */
function specificListenAddresses(config: Config): string[] {
  return config.dns.listen_address.map((a) => a.host).filter((h) => h !== "0.0.0.0" && h !== "::");
}
