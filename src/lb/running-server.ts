// One balancer server as it runs: its pools (the main one and one per SNI route), the sources that
// feed them, the optional ping check, and the TCP or UDP proxy in front. Built from one config and
// torn down as a whole; a reload either tunes it in place or replaces it (see load-balancer.ts).

import type { LbBackendSource, LbServerConfig } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { Pool } from "./pool.ts";
import { PingCheck } from "./ping-check.ts";
import { makeSource, type SourceDeps } from "./sources/index.ts";
import { TcpBalancer } from "./tcp-server.ts";
import { UdpBalancer } from "./udp-server.ts";
import type { BackendSource, LbServerStats } from "./types.ts";

export interface ServerDeps extends SourceDeps {
  clock: Clock;
  log: Logger;
}

/** The keys a running server takes without a new listener: they apply to new connections. */
const TUNABLE = [
  "balance",
  "max_connections",
  "client_idle_timeout",
  "backend_idle_timeout",
  "backend_connection_timeout",
  "connect_retries",
  "proxy_protocol",
  "access",
  "udp",
] as const satisfies readonly (keyof LbServerConfig)[];

/** True when `next` differs from `current` only in keys a running server can take in place. */
export function tunableInPlace(current: LbServerConfig, next: LbServerConfig): boolean {
  const fixed = (c: LbServerConfig) => {
    const copy: Partial<LbServerConfig> = { ...c };
    for (const key of TUNABLE) delete copy[key];
    return JSON.stringify(copy);
  };
  return fixed(current) === fixed(next);
}

interface Fed {
  pool: Pool;
  source: BackendSource;
  ping?: PingCheck;
}

export class RunningServer {
  private drained: Promise<void> | undefined;

  private constructor(
    private config: LbServerConfig,
    private readonly fed: Fed[],
    private readonly proxy: TcpBalancer | UdpBalancer,
  ) {}

  /** Binds and starts feeding; throws a clear error (and leaves nothing running) when it cannot. */
  static async start(config: LbServerConfig, deps: ServerDeps): Promise<RunningServer> {
    const log = deps.log.with({ lb_server: config.name });
    const feed = (source: LbBackendSource): Fed => {
      const pool = new Pool(config.balance, deps.clock);
      const ping = config.healthcheck ? new PingCheck(config.healthcheck, pool, deps.clock, log) : undefined;
      return { pool, source: makeSource(source, { ...deps, log }), ping };
    };
    const main = feed(config.backends);
    const routes = (config.sni?.routes ?? []).map((route) => ({ names: route.server_names, ...feed(route.backends) }));
    const fed = [main, ...routes];
    for (const f of fed) {
      f.source.start((targets) => {
        f.pool.setTargets(targets);
        f.ping?.membersChanged();
      });
    }
    try {
      const proxy =
        config.protocol === "udp"
          ? await UdpBalancer.start(config, main.pool, deps.clock, log)
          : TcpBalancer.start(config, { main: main.pool, sni: routes.map((r) => ({ names: r.names, pool: r.pool })) }, deps.clock, log);
      log.info("lb server started", { address: proxy.address(), protocol: config.protocol, balance: config.balance });
      return new RunningServer(config, fed, proxy);
    } catch (err) {
      for (const f of fed) RunningServer.stopFeeding(f);
      throw err;
    }
  }

  get name(): string {
    return this.config.name;
  }

  get current(): LbServerConfig {
    return this.config;
  }

  /** Takes a config that tunableInPlace() accepted; established connections keep their settings. */
  tune(next: LbServerConfig): void {
    this.config = next;
    for (const f of this.fed) f.pool.setBalance(next.balance);
    this.proxy.apply(next);
  }

  /** Stops accepting at once; resolves when the last connection has ended, then stops feeding. */
  drain(): Promise<void> {
    this.drained ??= this.proxy.drain().then(() => {
      for (const f of this.fed) RunningServer.stopFeeding(f);
    });
    return this.drained;
  }

  close(): void {
    this.proxy.close();
    for (const f of this.fed) RunningServer.stopFeeding(f);
  }

  stats(): LbServerStats {
    return this.proxy.stats();
  }

  private static stopFeeding(f: Fed): void {
    f.source.stop();
    f.ping?.stop();
  }
}
