// Overwatch mode: the services DNS answers for are the config's plus what agents announce. An agent's
// backend joins the configured service of that name, or makes a service of its own under the first
// zone; either way it gets the same defaults a service written in the config would (they come from
// the config schema, by parsing a one-service document), and, with validation on, this node's own
// tcp probe of its port, so "the overwatch always wins".

import { parseConfig } from "../config/load.ts";
import type { BackendConfig, Config, ServiceConfig } from "../config/types.ts";
import { formatDuration } from "../lib/duration.ts";
import type { AgentBackend } from "../health/agent-registry.ts";
import type { AgentInput } from "../health/engine.ts";
import { backendKey } from "../health/snapshot.ts";
import { announcedBackend } from "../agent/services.ts";

export interface AgentView {
  services: ServiceConfig[];
  /** The agents' claims by backend key (with the service's fqdn), for the health engine. */
  claims: Map<string, AgentInput>;
}

export function withAgentBackends(config: Config, announced: ReadonlyMap<string, readonly AgentBackend[]>): AgentView {
  const services = config.services.map((s) => ({ ...s, backends: [...s.backends] }));
  const claims = new Map<string, AgentInput>();
  const template = defaultsFor(config);
  for (const [name, backends] of announced) {
    let service = services.find((s) => s.name === name.toLowerCase() || s.fqdn === name.toLowerCase().replace(/\.$/, ""));
    if (!service) {
      service = { ...template.service, name: name.toLowerCase(), fqdn: `${name.toLowerCase()}.${template.service.zone}`, backends: [] };
      services.push(service);
    }
    for (const b of backends) {
      if (!service.backends.some((c) => c.address === b.address && c.port === b.port)) {
        service.backends.push(announcedBackend(b, service.health_check ? undefined : template.validation));
      }
      claims.set(backendKey(service.fqdn, b.address, b.port), { claim: b.claim, detail: b.detail });
    }
  }
  return { services, claims };
}

/** A service and a validation check with every default filled in, as the schema fills them. */
function defaultsFor(config: Config): { service: ServiceConfig; validation: BackendConfig["health_check"] } {
  const v = config.validation;
  const document = {
    dns: { zones: config.dns.zones.slice(0, 1), default_ttl: config.dns.default_ttl },
    services: [
      {
        name: "agent-service",
        backends: [{ address: "192.0.2.1" }],
        health_check: { type: "tcp", interval: formatDuration(v.check_interval), timeout: formatDuration(v.check_timeout) },
      },
    ],
  };
  const service = parseConfig(JSON.stringify(document), { env: {}, source: "agent service defaults" }).services[0]!;
  const { health_check, ...rest } = service;
  return { service: rest, validation: v.enabled ? health_check : undefined };
}
