// The node itself: which build is running and how its config reloads went.

import { Counter, Gauge, type Registry } from "prom-client";

export interface NodeInfo {
  version: string;
  commit: string;
  /** Counts kept by the node (VigilNode.reloads). */
  reloads: { readonly succeeded: number; readonly failed: number };
}

export function registerNodeMetrics(registry: Registry, node: NodeInfo): void {
  new Gauge({
    name: "vigil_build_info",
    help: "Always 1; the labels say which vigil build is running.",
    labelNames: ["version", "commit"],
    registers: [registry],
  }).set({ version: node.version, commit: node.commit }, 1);
  new Counter({
    name: "vigil_config_reloads_total",
    help: "Config reloads (SIGHUP) by result: a failed one (invalid config, port in use) leaves the previous config serving.",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "success" }, node.reloads.succeeded);
      this.inc({ result: "failure" }, node.reloads.failed);
    },
  });
}
