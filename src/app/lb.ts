// The node's L4 balancer: the config's lb.servers plus the servers made through the API, run by one
// LoadBalancer over the node's services and the same health snapshot the DNS answers read. It is the
// API's LbControl; LbApiServers keeps the API-made ones in SQLite.

import type { Config, LbServerConfig, ServiceConfig } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import { StartupError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Store } from "../store/store.ts";
import type { HealthBoard } from "../health/board.ts";
import { LoadBalancer } from "../lb/load-balancer.ts";
import { HealthServiceView } from "../lb/sources/service-view.ts";
import type { LbServerStats } from "../lb/types.ts";
import { LbApiServers } from "../api/lb-api-servers.ts";
import type { LbControl } from "../api/lb-routes.ts";

export interface NodeBalancerDeps {
  board: HealthBoard;
  store: Store;
  clock: Clock;
  log: Logger;
}

export class NodeBalancer implements LbControl {
  readonly api: LbApiServers;
  private readonly balancer: LoadBalancer;
  private readonly view: HealthServiceView;
  private configServers: readonly LbServerConfig[] = [];
  private readonly apiServers = new Map<string, LbServerConfig>();

  private constructor(deps: NodeBalancerDeps) {
    this.view = new HealthServiceView(deps.board);
    this.balancer = new LoadBalancer({ clock: deps.clock, log: deps.log, services: this.view });
    this.api = new LbApiServers({ control: this, stored: deps.store.lbServers, now: () => deps.clock.now(), log: deps.log });
  }

  /**
   * Starts the config's servers, then the stored API-made ones. A config server that cannot bind
   * stops the node from starting, as a DNS listener would; a stored one is only reported.
   */
  static async start(config: Config, services: readonly ServiceConfig[], deps: NodeBalancerDeps): Promise<NodeBalancer> {
    const node = new NodeBalancer(deps);
    node.view.setServices(services);
    node.configServers = config.lb.servers;
    const { failed } = await node.balancer.apply(node.wanted());
    if (failed.length > 0) {
      node.close();
      throw new StartupError(failed.map((f) => `lb server ${f.name}: ${f.error}`).join("; "));
    }
    await node.api.restore(config.lb.servers);
    return node;
  }

  /** A reload: the config takes names and binds from API-made servers, then everything is reconciled. */
  async reload(next: Config): Promise<void> {
    await this.api.yieldTo(next.lb.servers);
    this.configServers = next.lb.servers;
    await this.balancer.apply(this.wanted());
  }

  /** The node's services changed (reload, agents came or went): service-fed pools follow. */
  setServices(services: readonly ServiceConfig[]): void {
    this.view.setServices(services);
  }

  servers(): { config: LbServerConfig; origin: "config" | "api" }[] {
    return this.balancer.runningConfigs().map((config) => ({ config, origin: this.apiServers.has(config.name) ? "api" : "config" }));
  }

  stats(): LbServerStats[] {
    return this.balancer.stats();
  }

  async add(config: LbServerConfig): Promise<void> {
    this.apiServers.set(config.name, config);
    const failure = (await this.balancer.apply(this.wanted())).failed.find((f) => f.name === config.name);
    if (failure) {
      this.apiServers.delete(config.name);
      throw new Error(failure.error);
    }
  }

  async remove(name: string): Promise<boolean> {
    if (!this.apiServers.delete(name)) return false;
    await this.balancer.apply(this.wanted());
    return true;
  }

  close(): void {
    this.balancer.close();
    this.view.close();
  }

  private wanted(): LbServerConfig[] {
    return [...this.configServers, ...this.apiServers.values()];
  }
}
