// This node's own probe runs. Probes run at most a few thousand times a second, so prom-client's
// counters and histograms are fed directly as runs start and end.

import { Counter, Histogram, type Registry } from "prom-client";

/** The probe kind and outcome the scheduler reports (structurally its RunObserver). */
export interface ProbeRuns {
  observeRuns(observer: {
    started(target: { check: { type: string } }, lateMs: number): void;
    finished(target: { check: { type: string }; address: string; port: number }, result: { status: string; durationMs: number }): void;
  }): () => void;
}

/** Returns a function that stops observing. */
export function registerProbeMetrics(registry: Registry, probes: ProbeRuns): () => void {
  const results = new Counter({
    name: "vigil_probe_results_total",
    help: "Health probe runs by probe type and outcome (up, warning = up but worth a look, down; a timeout is down). Before rise/fall thresholds: one run, one count.",
    labelNames: ["type", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "vigil_probe_duration_seconds",
    help: "Wall time of one health probe run by probe type (the round trip for icmp; the timeout for runs that timed out).",
    labelNames: ["type"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const lateness = new Histogram({
    name: "vigil_probe_lateness_seconds",
    help: "How late probe runs started after their scheduled time: high values mean the node is overloaded or the concurrency limit is too low.",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  return probes.observeRuns({
    started(_target, lateMs) {
      lateness.observe(Math.max(0, lateMs) / 1000);
    },
    finished(target, result) {
      results.inc({ type: target.check.type, status: result.status });
      duration.observe({ type: target.check.type }, result.durationMs / 1000);
    },
  });
}
