// The balancer's one owner: it turns the wanted list of servers (from the YAML and from the API)
// into running ones and, on every change, touches only what changed. A server whose listener must
// change (bind, protocol, TLS, backends) is replaced: the old one stops accepting at once and drains
// its connections in the background while the new one binds the same address, so a reload never cuts
// an established connection. A removed server drains the same way and leaves the stats when empty.

import type { LbServerConfig } from "../config/types.ts";
import { errorMessage } from "../lib/errors.ts";
import { RunningServer, tunableInPlace, type ServerDeps } from "./running-server.ts";
import type { LbServerStats } from "./types.ts";

export interface ApplyOutcome {
  /** Servers that could not start (a bind in use, a certificate that does not load), by name. */
  failed: { name: string; error: string }[];
}

export class LoadBalancer {
  private readonly running = new Map<string, RunningServer>();
  private readonly draining = new Set<RunningServer>();
  /** Applies run one at a time (a reload and an API call may overlap); each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ServerDeps) {}

  /** Makes the running servers match `wanted`; a server that cannot start is reported, the rest run. */
  apply(wanted: readonly LbServerConfig[]): Promise<ApplyOutcome> {
    const next = this.queue.then(() => this.reconcile(wanted));
    this.queue = next.catch(() => {});
    return next;
  }

  /** The configs of the servers running now (not those draining). */
  runningConfigs(): LbServerConfig[] {
    return [...this.running.values()].map((s) => s.current);
  }

  private async reconcile(wanted: readonly LbServerConfig[]): Promise<ApplyOutcome> {
    const names = new Set(wanted.map((c) => c.name));
    for (const [name, server] of this.running) {
      if (!names.has(name)) this.retire(server);
    }
    const failed: ApplyOutcome["failed"] = [];
    for (const config of wanted) {
      const current = this.running.get(config.name);
      if (current && JSON.stringify(current.current) === JSON.stringify(config)) continue;
      if (current && tunableInPlace(current.current, config)) {
        try {
          current.tune(config);
          this.deps.log.info("lb server tuned", { lb_server: config.name });
        } catch (err) {
          // The server keeps its previous settings; the other servers still get theirs.
          failed.push({ name: config.name, error: errorMessage(err) });
          this.deps.log.error("lb server keeps its previous settings", { lb_server: config.name, error: errorMessage(err) });
        }
        continue;
      }
      if (current) this.retire(current);
      try {
        this.running.set(config.name, await RunningServer.start(config, this.deps));
      } catch (err) {
        failed.push({ name: config.name, error: errorMessage(err) });
        this.deps.log.error("lb server cannot start", { lb_server: config.name, error: errorMessage(err) });
      }
    }
    return { failed };
  }

  /** Running servers first, then those still draining. */
  stats(): LbServerStats[] {
    return [...this.running.values(), ...this.draining].map((s) => s.stats());
  }

  /** Every server stops accepting; waits for their connections up to the caller's own deadline. */
  async drainAll(): Promise<void> {
    for (const server of this.running.values()) this.retire(server);
    await Promise.all([...this.draining].map((s) => s.drain()));
  }

  /** Closes everything now, open connections included. */
  close(): void {
    for (const server of [...this.running.values(), ...this.draining]) server.close();
    this.running.clear();
    this.draining.clear();
  }

  private retire(server: RunningServer): void {
    this.running.delete(server.name);
    this.draining.add(server);
    this.deps.log.info("lb server draining", { lb_server: server.name });
    void server.drain().then(() => {
      this.draining.delete(server);
      this.deps.log.info("lb server drained", { lb_server: server.name });
    });
  }
}
