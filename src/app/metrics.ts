// The node's metrics: the registry lives as long as the node (counters never go back), the HTTP
// listener follows metrics.enabled and metrics.address across reloads.

import type { MetricsConfig } from "../config/types.ts";
import type { Logger } from "../lib/log.ts";
import { errorMessage } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { buildMetrics, type MetricsSources, type NodeMetrics } from "../metrics/registry.ts";
import { startMetrics, type MetricsServer } from "../metrics/server.ts";

export class MetricsEndpoint {
  private readonly metrics: NodeMetrics;
  private server: MetricsServer | undefined;
  private config: MetricsConfig | undefined;

  /**
   * Starts serving when `config.enabled`; throws StartupError when the address cannot be bound.
   * Takes the node's sources, or a registry already built (agent mode builds its own).
   */
  constructor(sources: MetricsSources | NodeMetrics, config: MetricsConfig, private readonly log: Logger) {
    this.metrics = "registry" in sources ? sources : buildMetrics(sources);
    try {
      this.serve(config);
    } catch (err) {
      this.metrics.close();
      throw err;
    }
  }

  get registry() {
    return this.metrics.registry;
  }

  /** "host:port" being served, or null when metrics are off. */
  address(): string | null {
    return this.server && this.config ? formatHostPort({ host: this.config.address.host, port: this.server.port }) : null;
  }

  /**
   * A reload: a changed metrics section restarts the listener. If the new address cannot be bound the
   * reload still counts (everything else took effect); /metrics is off until a later reload fixes it.
   */
  reconfigure(config: MetricsConfig): void {
    if (JSON.stringify(config) === JSON.stringify(this.config)) return;
    this.server?.stop();
    this.server = undefined;
    try {
      this.serve(config);
      this.log.info("metrics endpoint moved", { metrics: this.address() });
    } catch (err) {
      this.config = undefined;
      this.log.error("cannot serve metrics at the reloaded address; /metrics is off until the next reload", { error: errorMessage(err) });
    }
  }

  stop(): void {
    this.server?.stop();
    this.server = undefined;
    this.metrics.close();
  }

  private serve(config: MetricsConfig): void {
    this.server = config.enabled ? startMetrics(this.metrics.registry, config.address) : undefined;
    this.config = config;
  }
}
