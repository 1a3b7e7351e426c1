// The health state owner: the only writer of health snapshots. Every source of health (static
// config now; probes, agents and peers later) reports here, and readers get the published snapshot.

import type { Clock } from "../lib/clock.ts";
import type { ServiceConfig } from "../config/types.ts";
import { backendKey, HealthSnapshot, type BackendHealth, type HealthState } from "./snapshot.ts";

export interface BackendReport {
  service: string;
  address: string;
  port: number;
  state: HealthState;
  reason: string;
}

export type SnapshotListener = (snapshot: HealthSnapshot) => void;

export class HealthBoard {
  private current = HealthSnapshot.empty();
  private servicesOf = new Map<string, string[]>();
  private readonly listeners = new Set<SnapshotListener>();

  constructor(private readonly clock: Clock) {}

  snapshot(): HealthSnapshot {
    return this.current;
  }

  /** Tells the board which backends exist (at start and on reload), so last-known-good is per service. */
  setServices(services: readonly ServiceConfig[]): void {
    this.servicesOf = new Map(
      services.map((s) => [s.fqdn, s.backends.map((b) => backendKey(s.fqdn, b.address, b.port))]),
    );
    this.publish([]);
  }

  /** Records a backend's state; publishes a new snapshot only when something changed. */
  report(service: string, address: string, port: number, state: HealthState, reason: string): void {
    this.apply([{ service, address, port, state, reason }]);
  }

  /**
   * Records several states at once, as one new snapshot (so readers never see half a decision).
   * Only a change of state makes a new snapshot: a new snapshot empties the DNS response cache, and
   * a probe's detail (an RTT, say) changes far more often than any state.
   */
  apply(reports: readonly BackendReport[]): void {
    const changes: [string, BackendHealth][] = [];
    for (const { service, address, port, state, reason } of reports) {
      if (this.current.get(service, address, port)?.state === state) continue;
      changes.push([backendKey(service, address, port), { state, reason, since: this.clock.now() }]);
    }
    if (changes.length > 0) this.publish(changes);
  }

  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(changes: [string, BackendHealth][]): void {
    this.current = this.current.with(changes, this.servicesOf);
    for (const listener of this.listeners) listener(this.current);
  }
}
