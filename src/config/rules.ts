// Rules that span sections, run once the structure is valid: what each mode needs, which zone a
// service is in, and that geo regions named by backends exist. Also fills the defaults that depend on
// other keys (a service's zone and ttl, the overwatch gossip port).

import { joinName, isAtOrBelow } from "../lib/dns-name.ts";
import type { Issues } from "./issues.ts";
import type { Config, ServiceConfig } from "./types.ts";

const GOSSIP_PORT = 7946;

export function applyRules(config: Config, issues: Issues): void {
  applyModeRules(config, issues);
  checkApiWrites(config, issues);
  completeServices(config, issues);
}

/** Writes without a token are for a listener only this machine can reach. */
function checkApiWrites(config: Config, issues: Issues): void {
  const api = config.api;
  if (!api.enabled || api.read_only || api.token !== undefined || isLoopback(api.address.host)) return;
  issues.add(
    "api.token",
    `required when the API listens on ${api.address.host} (not loopback) and accepts writes: set api.token (e.g. "\${VIGIL_API_TOKEN}") or api.read_only: true`,
    issues.lineOf("api.address") ?? issues.lineOf("api"),
  );
}

function isLoopback(host: string): boolean {
  return host === "::1" || host === "localhost" || /^127\./.test(host);
}

function applyModeRules(config: Config, issues: Issues): void {
  const mode = config.mode;
  // A key the mode needs may be absent along with its whole section; then the `mode` line is the cause.
  const missing = (path: string, why = "") =>
    issues.add(path, `required in ${mode} mode${why}`, issues.lineOf(path) ?? issues.lineOf("mode"));
  if (mode !== "standalone" && config.gossip.encryption_key === undefined) {
    missing("gossip.encryption_key", ": gossip encryption is mandatory (make a key with: openssl rand -base64 32)");
  }
  if (mode === "overwatch") config.gossip.bind_address ??= { host: "0.0.0.0", port: GOSSIP_PORT };
  if (mode !== "agent") return;
  if (config.identity.service_token === undefined) missing("identity.service_token");
  if (config.backends.length === 0) missing("backends", ": list at least one backend to announce");
  if (config.gossip.overwatch_nodes.length === 0) {
    missing("gossip.overwatch_nodes", ": list at least one overwatch to announce to");
  }
}

function completeServices(config: Config, issues: Issues): void {
  const zones = config.dns.zones;
  const regions = new Set(config.geo.regions.map((region) => region.name));
  const fqdnAt = new Map<string, string>();
  config.services.forEach((service, i) => {
    const path = `services[${i}]`;
    const zone = zoneOf(service, zones, `${path}.zone`, issues);
    if (zone === undefined) return;
    if (isAtOrBelow(service.name, zone)) {
      issues.add(`${path}.name`, `"${service.name}" already ends in the zone; write only the part before ".${zone}"`);
    }
    service.zone = zone;
    service.fqdn = joinName(service.name, zone);
    service.ttl ??= config.dns.default_ttl;
    const first = fqdnAt.get(service.fqdn);
    if (first !== undefined) issues.add(`${path}.name`, `duplicate service ${service.fqdn} (also at ${first})`);
    else fqdnAt.set(service.fqdn, path);
    checkRegions(service, path, regions, issues);
  });
}

function zoneOf(service: ServiceConfig, zones: string[], path: string, issues: Issues): string | undefined {
  if (service.zone !== undefined) {
    if (zones.includes(service.zone)) return service.zone;
    issues.add(path, `"${service.zone}" is not in dns.zones${zones.length ? ` (${zones.join(", ")})` : ""}`);
    return undefined;
  }
  if (zones.length === 1) return zones[0];
  issues.add(
    path,
    zones.length === 0
      ? "required, but not set: add the zone to dns.zones"
      : `required when dns.zones has more than one zone (one of ${zones.join(", ")})`,
  );
  return undefined;
}

function checkRegions(service: ServiceConfig, path: string, regions: Set<string>, issues: Issues): void {
  if (service.policy === "geo" && regions.size === 0) {
    issues.add(`${path}.policy`, "the geo policy needs geo.regions");
    return;
  }
  service.backends.forEach((backend, j) => {
    const backendPath = `${path}.backends[${j}].region`;
    if (backend.region === undefined) {
      if (service.policy === "geo") issues.add(backendPath, "required with the geo policy");
    } else if (regions.size > 0 && !regions.has(backend.region)) {
      issues.add(backendPath, `"${backend.region}" is not one of geo.regions (${[...regions].join(", ")})`);
    }
  });
}
