// Backends and their effective health, as the health engine decided it. Counts of backends are read
// at scrape time from the engine's view; state changes are counted as the engine makes them.

import { Counter, Gauge, type Registry } from "prom-client";

export interface HealthSource {
  view(): readonly { service: string; state: string; heldOutUntil?: number }[];
  /** Those in force now. */
  overrides(): readonly unknown[];
  onStateChange(listener: (change: { service: string; to: string }) => void): () => void;
}

/** Returns a function that stops listening for state changes. */
export function registerHealthMetrics(registry: Registry, health: HealthSource): () => void {
  const byService = (counted: (b: ReturnType<HealthSource["view"]>[number]) => boolean) => {
    const counts = new Map<string, number>();
    for (const b of health.view()) counts.set(b.service, (counts.get(b.service) ?? 0) + (counted(b) ? 1 : 0));
    return counts;
  };
  new Gauge({
    name: "vigil_backends",
    help: "Backends configured for each service (registered by agents too, once agents exist).",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, n] of byService(() => true)) this.set({ service }, n);
    },
  });
  new Gauge({
    name: "vigil_backends_healthy",
    help: "Backends of each service whose effective state is up, so DNS answers may contain them (after overrides, probes, flap damping and the service's minimum).",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, n] of byService((b) => b.state === "up")) this.set({ service }, n);
    },
  });
  new Gauge({
    name: "vigil_backends_held_out",
    help: "Backends of each service held out by flap damping now: their verdict changed more than flap_damping.max_changes times within flap_damping.window.",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, n] of byService((b) => b.heldOutUntil !== undefined)) this.set({ service }, n);
    },
  });
  new Gauge({
    name: "vigil_overrides_active",
    help: "Operator overrides in force now (set through the API; expired ones not counted). An override wins over every other health input.",
    registers: [registry],
    collect() {
      this.set(health.overrides().length);
    },
  });
  const changes = new Counter({
    name: "vigil_backend_state_changes_total",
    help: "Changes of a backend's effective state, by service and the state it changed to. Each one is also an event in the API's history, with its reason.",
    labelNames: ["service", "to"],
    registers: [registry],
  });
  return health.onStateChange((change) => changes.inc({ service: change.service, to: change.to }));
}
