// Builders for zone tests: a DnsConfig with small defaults, services, and a renderer that turns
// lookup results into zone-file lines so expectations read like dig output.

import type { DnsConfig, ServiceConfig, WhenAllDown } from "../../../src/config/types.ts";
import { fqdn } from "../../../src/lib/dns-name.ts";
import type { AnswerRRset, LookupResult } from "../../../src/dns/types.ts";
import { isServiceRRset } from "../../../src/dns/types.ts";
import { ipFamily } from "../../../src/lib/cidr.ts";
import { buildZones } from "../../../src/dns/zone/build.ts";
import { formatRRset } from "../../../src/dns/zone/present.ts";
import { typeName } from "../../../src/dns/zone/type-names.ts";
import type { ZoneSet } from "../../../src/dns/zone/zone.ts";

export function dnsConfig(overrides: Partial<DnsConfig> = {}): DnsConfig {
  return {
    listen_address: [],
    zones: ["example.com"],
    default_ttl: 300,
    nameservers: [],
    records: "",
    soa: { refresh: 3600, retry: 600, expire: 1209600, minimum: 60 },
    dnssec: {
      enabled: false,
      algorithm: "ecdsap256sha256",
      key_type: "csk",
      denial: "nsec",
      signature_validity: 0,
      inception_offset: 0,
      key_sync: { peers: [], poll_interval: 0 },
    },
    max_udp_size: 1232,
    tcp: { idle_timeout: 10_000, max_connections: 100 },
    response_cache: { max_entries: 1000 },
    ...overrides,
  };
}

/** A service at `fqdn` (its first label under the rest) with one backend per address. */
export function service(name: string, addresses: string[], whenAllDown: WhenAllDown = { mode: "fail_open" }): ServiceConfig {
  const [label, ...zone] = name.split(".");
  return {
    name: label!,
    zone: zone.join("."),
    fqdn: name,
    policy: "roundrobin",
    ttl: 30,
    max_answers: 8,
    when_all_down: whenAllDown,
    flap_damping: { max_changes: 0, window: 60_000, hold_down: 60_000 },
    backends: addresses.map((address) => ({ address, family: ipFamily(address)!, port: 443, weight: 1, priority: 0 })),
  };
}

/** Zones from a partial dns config, with serial 1 (serials are build.test.ts's business). */
export function zonesFrom(dns: Partial<DnsConfig>, services: ServiceConfig[] = []): ZoneSet {
  return buildZones({ dns: dnsConfig(dns), services, serialFor: () => 1 });
}

/** Zone-file lines; a service set shows which service fills it in, as the policy stage will. */
export function renderSet(set: AnswerRRset): string[] {
  if (isServiceRRset(set)) return [`${fqdn(set.name)} ${set.ttl} IN ${typeName(set.type)} <service ${set.service}>`];
  return formatRRset(set);
}

export interface Rendered {
  kind: LookupResult["kind"];
  answer: string[];
  authority: string[];
  additional: string[];
}

/** The sections a server would fill from this result. */
export function render(result: LookupResult): Rendered {
  const lines = (sets: readonly AnswerRRset[]) => sets.flatMap(renderSet);
  switch (result.kind) {
    case "answer":
      return { kind: result.kind, answer: lines(result.answer), authority: [], additional: lines(result.additional) };
    case "nodata":
    case "nxdomain":
      return { kind: result.kind, answer: lines(result.answer), authority: lines([result.soa]), additional: [] };
    case "delegation":
      return { kind: result.kind, answer: [], authority: lines([result.ns]), additional: lines(result.glue) };
    case "refused":
      return { kind: result.kind, answer: [], authority: [], additional: [] };
  }
}
