// An agent's own metrics (agent mode), in a registry of their own: an agent serves no DNS, so the
// overwatch's DNS series would only ever read 0. What it does have: the backends it announces, its
// heartbeats, the predictive signal per backend, its probes, its own view of its backends' health,
// gossip, and the node and process series.

import { Counter, Gauge, Registry } from "prom-client";
import { registerGossipMetrics, type GossipSource } from "./gossip.ts";
import { registerHealthMetrics, type HealthSource } from "./health.ts";
import { registerNodeMetrics, type NodeInfo } from "./node-info.ts";
import { registerProbeMetrics, type ProbeRuns } from "./probes.ts";
import { registerProcessMetrics } from "./process.ts";
import type { NodeMetrics } from "./registry.ts";

export interface AgentModeSource {
  /** Backends in the config, each announced to the overwatches. */
  backends(): number;
  heartbeats(): { sent: number; failed: number };
  /** Backends with predictive signals on, and whether each bleeds now. */
  predictive(): readonly { service: string; address: string; port: number; bleeding: boolean }[];
}

export interface AgentMetricsSources {
  agent: AgentModeSource;
  health: HealthSource;
  probes: ProbeRuns;
  gossip: () => GossipSource | undefined;
  node: NodeInfo;
  /** prom-client's process metrics; default true. */
  process?: boolean;
}

export function buildAgentMetrics(sources: AgentMetricsSources): NodeMetrics {
  const registry = new Registry();
  registerAgentModeMetrics(registry, sources.agent);
  const unhookHealth = registerHealthMetrics(registry, sources.health);
  const unhookProbes = registerProbeMetrics(registry, sources.probes);
  registerGossipMetrics(registry, sources.gossip);
  registerNodeMetrics(registry, sources.node);
  if (sources.process !== false) registerProcessMetrics(registry);
  return {
    registry,
    close() {
      unhookHealth();
      unhookProbes();
    },
  };
}

function registerAgentModeMetrics(registry: Registry, agent: AgentModeSource): void {
  new Gauge({
    name: "vigil_agent_backends_registered",
    help: "Backends this agent checks and announces to the overwatches (its config's backends).",
    registers: [registry],
    collect() {
      this.set(agent.backends());
    },
  });
  new Counter({
    name: "vigil_agent_heartbeats_sent_total",
    help: "Heartbeats published while at least one overwatch was alive in this agent's gossip view (one per heartbeat, whatever the number of services).",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(agent.heartbeats().sent);
    },
  });
  new Counter({
    name: "vigil_agent_heartbeat_failures_total",
    help: "Heartbeats that reached no overwatch (none alive in the gossip view) or could not be built. The overwatches count the agent stale after stale.threshold without one.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(agent.heartbeats().failed);
    },
  });
  new Gauge({
    name: "vigil_predictive_bleeding",
    help: "1 while the backend's predictive signal is on (host CPU, memory or the probes' error rate over its threshold) and the agent claims it draining; 0 otherwise. Only backends with predictive.enabled.",
    labelNames: ["service", "address", "port"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of agent.predictive()) this.set({ service: b.service, address: b.address, port: String(b.port) }, b.bleeding ? 1 : 0);
    },
  });
}
