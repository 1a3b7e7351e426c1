// Agents (overwatch mode): how many are registered and stale, and this node's own validation probes
// of the backends they announce. In standalone mode the series are there and read 0.

import { Counter, Gauge, type Registry } from "prom-client";
import type { ProbeRuns } from "./probes.ts";

export interface AgentSource {
  counts(): { registered: number; stale: number; accepted: number; rejected: Record<string, number>; undecodable: Record<string, number> };
  /** Whether a probe target is a backend that an agent announced. */
  announces(address: string, port: number): boolean;
}

/** Returns a function that stops observing probe runs. */
export function registerAgentMetrics(registry: Registry, source: () => AgentSource | undefined, runs: ProbeRuns): () => void {
  new Gauge({
    name: "vigil_agents_registered",
    help: "Agents that announced backends to this node and have not been dropped (stale.remove_after).",
    registers: [registry],
    collect() {
      this.set(source()?.counts().registered ?? 0);
    },
  });
  new Gauge({
    name: "vigil_stale_agents",
    help: "Registered agents without a heartbeat for longer than stale.threshold: their claims count as unknown.",
    registers: [registry],
    collect() {
      this.set(source()?.counts().stale ?? 0);
    },
  });
  new Counter({
    name: "vigil_agent_claims_total",
    help: "Agent claims (heartbeats) received, by outcome: accepted, or refused for a reason (bad-token: the service token does not match agent_tokens; key-mismatch: not the key pinned for that agent; unknown-service; bad-signature and other decoding failures).",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      const counts = source()?.counts();
      this.reset();
      if (!counts) return;
      this.inc({ outcome: "accepted" }, counts.accepted);
      for (const [reason, n] of Object.entries({ ...counts.rejected, ...counts.undecodable })) this.inc({ outcome: reason }, n);
    },
  });
  const validation = new Counter({
    name: "vigil_validation_checks_total",
    help: "This node's own probe runs of backends that agents announced, by outcome; this node's verdict wins over the agent's claim.",
    labelNames: ["result"],
    registers: [registry],
  });
  for (const result of ["up", "warning", "down"]) validation.inc({ result }, 0);
  return runs.observeRuns({
    started() {},
    finished(target, result) {
      if (source()?.announces(target.address, target.port)) validation.inc({ result: result.status });
    },
  });
}
