// The ServiceView the node hands the balancer: the services of the moment (config plus agent-announced,
// set by the node whenever it changes them) read against the same health snapshot the DNS answers use.

import type { ServiceConfig } from "../../config/types.ts";
import type { HealthSnapshot } from "../../health/snapshot.ts";
import type { LbTarget } from "../types.ts";
import type { ServiceView } from "./service-source.ts";

/** The part of the HealthBoard this needs. */
export interface SnapshotFeed {
  snapshot(): HealthSnapshot;
  subscribe(listener: (snapshot: HealthSnapshot) => void): () => void;
}

/**
 * `lb.servers[].backends.service` names a service as an operator would: its fqdn ("app.example.com")
 * or its name under the zone ("app"); case and a trailing dot do not matter. An fqdn match wins; a
 * bare name that several zones use picks the first such service (config order, then agents').
 */
export function serviceNamed(services: readonly ServiceConfig[], name: string): ServiceConfig | undefined {
  const wanted = name.toLowerCase().replace(/\.$/, "");
  return services.find((s) => s.fqdn === wanted) ?? services.find((s) => s.name === wanted);
}

export class HealthServiceView implements ServiceView {
  private services: readonly ServiceConfig[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly feed: SnapshotFeed) {
    this.unsubscribe = feed.subscribe(() => this.changed());
  }

  /** The node calls this after every change of its services (start, reload, agents came or went). */
  setServices(services: readonly ServiceConfig[]): void {
    this.services = services;
    this.changed();
  }

  backends(name: string): readonly LbTarget[] | undefined {
    const service = serviceNamed(this.services, name);
    if (!service) return undefined;
    const snapshot = this.feed.snapshot();
    return service.backends
      .filter((b) => snapshot.isUp(service.fqdn, b.address, b.port))
      .map((b) => ({ address: b.address, port: b.port, weight: b.weight }));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
