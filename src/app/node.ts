// Builds a running node from a config and keeps it in step with reloads. The only place that knows
// every part: start order is store → health → answer engine → listeners; stop is the reverse.

import type { Config } from "../config/types.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { createLogger, type Logger, type LogSettings, type LogSink } from "../lib/log.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { HealthBoard } from "../health/board.ts";
import { buildEngine, type AnswerEngine } from "../dns/server/engine.ts";
import { DnsPipeline } from "../dns/server/pipeline.ts";
import { DnsServer, type BoundAddress } from "../dns/server/dns-server.ts";
import { describeBuildError } from "./build-errors.ts";

/** Where a (re)load reads its config from: a file path, or the embedded demo. */
export type ConfigSource = () => Config;

export interface NodeOptions {
  clock?: Clock;
  logSink?: LogSink;
}

export interface ReloadOutcome {
  ok: boolean;
  error?: string;
}

export class VigilNode {
  readonly reloads = { succeeded: 0, failed: 0 };

  private constructor(
    private config: Config,
    private readonly source: ConfigSource,
    readonly log: Logger,
    private readonly logSettings: LogSettings,
    readonly store: Store,
    readonly health: HealthBoard,
    readonly pipeline: DnsPipeline,
    readonly dns: DnsServer,
    private readonly clock: Clock,
  ) {}

  static async start(source: ConfigSource, options: NodeOptions = {}): Promise<VigilNode> {
    const clock = options.clock ?? systemClock;
    const config = source();
    if (config.mode === "agent") {
      throw new StartupError("agent mode (checking local backends and gossiping claims) is not in this version yet; run an overwatch or standalone config");
    }
    const logSettings: LogSettings = { ...config.logging };
    const log = createLogger(logSettings, options.logSink, { node: config.identity.node_id });
    const store = openStore(config.data_dir);
    try {
      const health = new HealthBoard(clock);
      health.setServices(config.services);
      const engine = buildOrThrow(config, store, clock);
      const pipeline = new DnsPipeline(engine, health);
      const dns = new DnsServer(pipeline, tcpLimitsOf(config));
      await dns.reconcile(config.dns.listen_address, tcpLimitsOf(config));
      const node = new VigilNode(config, source, log, logSettings, store, health, pipeline, dns, clock);
      log.info("vigil started", { mode: config.mode, zones: config.dns.zones, dns: node.dnsAddresses() });
      return node;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  get currentConfig(): Config {
    return this.config;
  }

  dnsAddresses(): BoundAddress[] {
    return this.dns.bound();
  }

  /**
   * Reads, validates and builds the whole new config before touching anything; an invalid one
   * leaves the old config serving. Listeners that did not change keep their sockets.
   */
  async reload(): Promise<ReloadOutcome> {
    let next: Config;
    let engine: AnswerEngine;
    try {
      next = this.source();
      engine = buildOrThrow(next, this.store, this.clock);
    } catch (err) {
      return this.reloadFailed(errorMessage(err));
    }
    try {
      await this.dns.reconcile(next.dns.listen_address, tcpLimitsOf(next));
    } catch (err) {
      await this.dns.reconcile(this.config.dns.listen_address, tcpLimitsOf(this.config)).catch(() => {});
      return this.reloadFailed(errorMessage(err));
    }
    for (const key of ["mode", "data_dir"] as const) {
      if (next[key] !== this.config[key]) this.log.warn(`${key} changed: takes effect at the next restart`, { key });
    }
    this.health.setServices(next.services);
    this.pipeline.setEngine(engine);
    Object.assign(this.logSettings, next.logging);
    this.config = { ...next, mode: this.config.mode, data_dir: this.config.data_dir };
    this.reloads.succeeded++;
    this.log.info("config reloaded", { zones: next.dns.zones, services: next.services.length });
    return { ok: true };
  }

  async stop(): Promise<void> {
    this.dns.close();
    this.pipeline.close();
    this.store.close();
    this.log.info("vigil stopped");
  }

  private reloadFailed(error: string): ReloadOutcome {
    this.reloads.failed++;
    this.log.error("config reload failed; the previous config keeps serving", { error });
    return { ok: false, error };
  }
}

function buildOrThrow(config: Config, store: Store, clock: Clock): AnswerEngine {
  try {
    return buildEngine(config, (zone, hash) => store.zoneSerials.serialFor(zone, hash, Math.floor(clock.now() / 1000)));
  } catch (err) {
    throw new StartupError(describeBuildError(err));
  }
}

function tcpLimitsOf(config: Config) {
  return { idleTimeoutMs: config.dns.tcp.idle_timeout, maxConnections: config.dns.tcp.max_connections };
}
