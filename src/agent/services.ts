// An agent's backends as the services the probe scheduler and the health engine take. An agent
// answers no DNS, so the DNS fields are inert, and nothing may bend its verdicts: no flap damping,
// no min_healthy floor. What it claims is what its probes saw; the overwatches do the rest.

import type { AgentBackendConfig, BackendConfig, ServiceConfig } from "../config/types.ts";

export function agentServices(backends: readonly AgentBackendConfig[]): ServiceConfig[] {
  const byName = new Map<string, ServiceConfig>();
  for (const b of backends) {
    let service = byName.get(b.service);
    if (!service) {
      service = {
        name: b.service,
        zone: "",
        // The health engine keys backends by fqdn; for an agent the service name is the key the claims use.
        fqdn: b.service,
        policy: "roundrobin",
        ttl: 0,
        max_answers: 0,
        when_all_down: { mode: "fail_open" },
        flap_damping: { max_changes: 0, window: 0, hold_down: 0 },
        backends: [],
      };
      byName.set(b.service, service);
    }
    service.backends.push(announcedBackend(b, b.health_check));
  }
  return [...byName.values()];
}

/** A backend an agent announces, as a service's backend: one failover tier, probed by `check`. */
export function announcedBackend(
  b: { address: string; port: number; weight: number; region?: string },
  check: BackendConfig["health_check"],
): BackendConfig {
  return { address: b.address, family: b.address.includes(":") ? 6 : 4, port: b.port, weight: b.weight, region: b.region, priority: 1, health_check: check };
}
