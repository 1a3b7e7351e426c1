// Series for the agent and gossip layer, which this version does not have yet. They are exported
// now, at zero, so dashboards and alerts can be written against names that will not change.

import { Counter, Gauge, type Registry } from "prom-client";

export function registerAgentMetrics(registry: Registry): void {
  new Gauge({
    name: "vigil_agents_registered",
    help: "Agents that announced backends to this node and have not been dropped (always 0 until agent mode exists).",
    registers: [registry],
  });
  new Gauge({
    name: "vigil_stale_agents",
    help: "Registered agents without a heartbeat for longer than stale.threshold: their claims count as unknown (always 0 until agent mode exists).",
    registers: [registry],
  });
  const validation = new Counter({
    name: "vigil_validation_checks_total",
    help: "This node's own probe runs of backends that agents announced, by outcome, which it weighs against the agents' claims (always 0 until agent mode exists).",
    labelNames: ["result"],
    registers: [registry],
  });
  for (const result of ["up", "warning", "down"]) validation.inc({ result }, 0);
}
