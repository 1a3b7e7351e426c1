// The node's metrics: one Registry per node, built here from what the metrics read (no prom-client
// global registry, so two nodes in one process, as in tests, never mix their numbers).

import { Registry } from "prom-client";
import { registerAgentMetrics, type AgentSource } from "./agents.ts";
import { registerDnsMetrics, type DnsSource } from "./dns.ts";
import { registerHealthMetrics, type HealthSource } from "./health.ts";
import { registerLbMetrics, type LbSource } from "./lb.ts";
import { registerGossipMetrics, type GossipSource } from "./gossip.ts";
import { registerNodeMetrics, type NodeInfo } from "./node-info.ts";
import { registerProbeMetrics, type ProbeRuns } from "./probes.ts";
import { registerProcessMetrics } from "./process.ts";

export interface MetricsSources {
  dns: DnsSource;
  health: HealthSource;
  /** Overwatch mode's gossip; undefined in standalone mode (the series then read 0). */
  gossip?: () => GossipSource | undefined;
  /** Overwatch mode's agent registry; undefined otherwise. */
  agents?: () => AgentSource | undefined;
  probes: ProbeRuns;
  /** The L4 balancer's servers; without it no vigil_lb_ series exist. */
  lb?: LbSource;
  node: NodeInfo;
  /** prom-client's process metrics (CPU, memory, fds, event loop); default true. */
  process?: boolean;
}

export interface NodeMetrics {
  registry: Registry;
  /** Stops listening to the health engine and the probes. */
  close(): void;
}

export function buildMetrics(sources: MetricsSources): NodeMetrics {
  const registry = new Registry();
  registerDnsMetrics(registry, sources.dns);
  const unhookHealth = registerHealthMetrics(registry, sources.health);
  registerGossipMetrics(registry, sources.gossip ?? (() => undefined));
  const unhookProbes = registerProbeMetrics(registry, sources.probes);
  const unhookAgents = registerAgentMetrics(registry, sources.agents ?? (() => undefined), sources.probes);
  registerNodeMetrics(registry, sources.node);
  if (sources.lb) registerLbMetrics(registry, sources.lb);
  if (sources.process !== false) registerProcessMetrics(registry);
  return {
    registry,
    close() {
      unhookHealth();
      unhookProbes();
      unhookAgents();
    },
  };
}
