// Everything the answer path needs from the config, built once per (re)load as one value, so a
// reload swaps it whole and a query never sees half of an old config and half of a new one.

import type { Config } from "../../config/types.ts";
import type { RR } from "../types.ts";
import type { DenialMode, ZoneKeys } from "../dnssec/zone-signing.ts";
import type { WindowSettings } from "../dnssec/signing-window.ts";
import { buildZones, type ZoneSet } from "../zone/build.ts";
import { planService, type ServicePlan } from "../policy/plan.ts";
import { GeoMap } from "../policy/geo-map.ts";

/** Where a signed zone's keys come from (the keyring), as the answer path needs them. */
export interface DnssecSource {
  /** DNSKEY, CDS and CDNSKEY records for the zone's apex. */
  apexRecords(apex: string): RR[];
  keysFor(apex: string): ZoneKeys | undefined;
}

export interface EngineDnssec {
  keysFor(apex: string): ZoneKeys | undefined;
  window: WindowSettings;
  denial: DenialMode;
}

export interface AnswerEngine {
  zones: ZoneSet;
  plans: ReadonlyMap<string, ServicePlan>;
  geo: GeoMap;
  maxUdpSize: number;
  cacheEntries: number;
  /** Present when the zones are signed. */
  dnssec?: EngineDnssec;
}

export function buildEngine(
  config: Config,
  serialFor: (zone: string, contentHash: string) => number,
  keys?: DnssecSource,
): AnswerEngine {
  const signed = config.dns.dnssec.enabled && keys !== undefined;
  const zones = buildZones({
    dns: config.dns,
    services: config.services,
    serialFor,
    defaultNameserverAddresses: specificListenAddresses(config),
    apexRecords: signed ? (apex) => keys.apexRecords(apex) : undefined,
  });
  return {
    zones,
    plans: new Map(config.services.map((s) => [s.fqdn, planService(s)])),
    geo: new GeoMap(config.geo),
    maxUdpSize: config.dns.max_udp_size,
    cacheEntries: config.dns.response_cache.max_entries,
    dnssec: signed
      ? {
          keysFor: (apex) => keys.keysFor(apex),
          window: { validityMs: config.dns.dnssec.signature_validity, inceptionOffsetMs: config.dns.dnssec.inception_offset },
          denial: config.dns.dnssec.denial,
        }
      : undefined,
  };
}

/** Listen addresses usable as glue for a synthesized NS: not wildcards. */
function specificListenAddresses(config: Config): string[] {
  return config.dns.listen_address.map((a) => a.host).filter((h) => h !== "0.0.0.0" && h !== "::");
}
