// Builds a running node from a config and keeps it in step with reloads. The only place that knows
// every part: start order is store → health → checks → answer engine → listeners → API → metrics; stop is
// the reverse.

import type { Config, ServiceConfig } from "../config/types.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { createLogger, type Logger, type LogSettings, type LogSink } from "../lib/log.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { versionInfo } from "../lib/version.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { HealthBoard } from "../health/board.ts";
import { HealthEngine } from "../health/engine.ts";
import { buildEngine, type AnswerEngine } from "../dns/server/engine.ts";
import { DnsPipeline } from "../dns/server/pipeline.ts";
import { DnsServer, type BoundAddress } from "../dns/server/dns-server.ts";
import { buildApi } from "../api/app.ts";
import { serveApi, type ApiServer } from "../api/serve.ts";
import { describeBuildError } from "./build-errors.ts";
import { HealthChecks } from "./health-checks.ts";
import { MetricsEndpoint } from "./metrics.ts";
import { DnssecKeys } from "./dnssec-keys.ts";
import { Cluster } from "./cluster.ts";
import { withAgentBackends, type AgentView } from "./agent-services.ts";
import { AgentRegistry } from "../health/agent-registry.ts";
import { dnssecRoutes } from "../api/dnssec-routes.ts";
import { clusterRoutes } from "../api/cluster-routes.ts";
import { agentRoutes } from "../api/agent-routes.ts";
import { explain, isKnownType } from "../dns/server/explain.ts";
import { NodeBalancer } from "./lb.ts";

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

interface Parts {
  log: Logger;
  logSettings: LogSettings;
  store: Store;
  board: HealthBoard;
  health: HealthEngine;
  checks: HealthChecks;
  pipeline: DnsPipeline;
  dns: DnsServer;
  clock: Clock;
  keys: DnssecKeys | undefined;
  /** Overwatch mode: gossip with the other overwatches. */
  cluster: Cluster | undefined;
  /** Overwatch mode: the agents and the backends they announce. */
  agents: AgentRegistry | undefined;
  lb: NodeBalancer;
}

export class VigilNode {
  readonly reloads = { succeeded: 0, failed: 0 };
  private api: ApiServer | undefined;
  /** The config's services plus the agents' (overwatch mode): what DNS answers for. */
  private services: ServiceConfig[];
  private servicesShape = "";
  /** "address|port" of every backend an agent announced, for the validation-probe metric. */
  private agentTargets = new Set<string>();
  private metrics: MetricsEndpoint | undefined;

  private constructor(
    private config: Config,
    private readonly source: ConfigSource,
    private readonly parts: Parts,
  ) {
    this.services = config.services;
  }

  static async start(source: ConfigSource, options: NodeOptions = {}): Promise<VigilNode> {
    const clock = options.clock ?? systemClock;
    const config = source();
    if (config.mode === "agent") {
      throw new StartupError("an agent config runs as an agent node (AgentNode), not as a DNS node");
    }
    const logSettings: LogSettings = { ...config.logging };
    const log = createLogger(logSettings, options.logSink, { node: config.identity.node_id });
    const store = openStore(config.data_dir);
    // What has started so far, newest first, so a failure part-way undoes it in reverse order.
    const undo: (() => void)[] = [() => store.close()];
    try {
      const board = new HealthBoard(clock);
      const peers = config.mode === "overwatch" ? Cluster.peerVerdicts() : undefined;
      const health = new HealthEngine({ clock, board, history: store.history, overrides: store.overrides, log, peers });
      const checks = new HealthChecks(health, clock, log);
      undo.unshift(() => checks.stop(), () => health.close());
      checks.configure(config.services);
      let pipeline: DnsPipeline | undefined;
      const keys = config.dns.dnssec.enabled
        ? await DnssecKeys.start(config, store, clock, log, () => pipeline?.currentEngine.zones)
        : undefined;
      if (keys) undo.unshift(() => keys.stop());
      pipeline = new DnsPipeline(buildOrThrow(config, store, clock, keys), board, { clock });
      const dns = new DnsServer(pipeline, tcpLimitsOf(config));
      await dns.reconcile(config.dns.listen_address, tcpLimitsOf(config));
      undo.unshift(() => dns.close());
      const agents = peers ? agentRegistryFor(config, store, log) : undefined;
      // The node does not exist yet when gossip starts; claims arriving before it do after it.
      let onAgents = (_why: string) => {};
      const agentWiring = agents && { registry: agents, changed: (why: string) => onAgents(why) };
      const cluster = peers && agentWiring ? await Cluster.start(config, { peers, health, agents: agentWiring, dnssec: keys?.keyring }, clock, log) : undefined;
      if (cluster) undo.unshift(() => void cluster.stop());
      const lb = await NodeBalancer.start(config, config.services, { board, store, clock, log });
      undo.unshift(() => lb.close());
      const node = new VigilNode(config, source, { log, logSettings, store, board, health, checks, pipeline, dns, clock, keys, cluster, agents, lb });
      onAgents = (why) => node.applyAgents(why);
      // New keys (a rollover step, or keys from a peer) change the zones' DNSKEY sets: rebuild.
      keys?.keyring.onChange(() => node.rebuildAnswers("dnssec keys changed"));
      node.api = node.startApi(config);
      undo.unshift(() => node.api?.stop());
      const metricsSources = { dns: pipeline, health, probes: checks, node: { ...versionInfo, reloads: node.reloads }, gossip: () => cluster, agents: () => node.agentMetrics(), lb: () => lb.stats() };
      node.metrics = new MetricsEndpoint(metricsSources, config.metrics, log);
      log.info("vigil started", {
        mode: config.mode,
        zones: config.dns.zones,
        dns: node.dnsAddresses(),
        api: node.api ? formatHostPort({ host: config.api.address.host, port: node.api.port }) : null,
        metrics: node.metrics.address(),
        gossip: cluster?.address() ?? null,
        lb: lb.stats().map((s) => ({ name: s.name, address: s.bind })),
        icmp: checks.icmpMode(),
      });
      void health.whenReady().then(() => log.info("ready: first probe round done", { backends: health.view().length }));
      return node;
    } catch (err) {
      for (const step of undo) step();
      throw err;
    }
  }

  get log(): Logger {
    return this.parts.log;
  }

  get health(): HealthEngine {
    return this.parts.health;
  }

  get currentConfig(): Config {
    return this.config;
  }

  dnsAddresses(): BoundAddress[] {
    return this.parts.dns.bound();
  }

  apiPort(): number | undefined {
    return this.api?.port;
  }

  /** "host:port" of /metrics, or null when metrics are off. */
  metricsAddress(): string | null {
    return this.metrics?.address() ?? null;
  }

  /** Resolves once every checked backend has a verdict (or a state saved before a restart). */
  whenReady(): Promise<void> {
    return this.parts.health.whenReady();
  }

  /**
   * Reads, validates and builds the whole new config before touching anything; an invalid one
   * leaves the old config serving. Listeners that did not change keep their sockets.
   */
  async reload(): Promise<ReloadOutcome> {
    const { dns, checks, pipeline, store, clock, log, logSettings, keys } = this.parts;
    let next: Config;
    let engine: AnswerEngine;
    let view: AgentView;
    try {
      next = this.source();
      if (next.dns.dnssec.enabled !== this.config.dns.dnssec.enabled) {
        throw new Error("dns.dnssec.enabled changed: turning signing on or off needs a restart");
      }
      await keys?.setZones(next.dns.zones);
      view = this.agentView(next);
      engine = buildOrThrow({ ...next, services: view.services }, store, clock, keys);
    } catch (err) {
      return this.reloadFailed(errorMessage(err));
    }
    try {
      await dns.reconcile(next.dns.listen_address, tcpLimitsOf(next));
    } catch (err) {
      await dns.reconcile(this.config.dns.listen_address, tcpLimitsOf(this.config)).catch(() => {});
      return this.reloadFailed(errorMessage(err));
    }
    for (const key of ["mode", "data_dir"] as const) {
      if (next[key] !== this.config[key]) log.warn(`${key} changed: takes effect at the next restart`, { key });
    }
    checks.configure(view.services);
    this.services = view.services;
    this.parts.lb.setServices(view.services);
    this.parts.health.setAgentClaims(view.claims, "config reloaded");
    this.parts.cluster?.reconfigure(next);
    pipeline.setEngine(engine);
    Object.assign(logSettings, next.logging);
    const previousApi = this.config.api;
    this.config = { ...next, mode: this.config.mode, data_dir: this.config.data_dir };
    this.reconcileApi(previousApi);
    await this.parts.lb.reload(next);
    this.metrics?.reconfigure(next.metrics);
    this.reloads.succeeded++;
    log.info("config reloaded", { zones: next.dns.zones, services: next.services.length });
    return { ok: true };
  }

  /** Builds the answer engine again from the current config (the zones' keys changed). */
  rebuildAnswers(why: string): void {
    const { pipeline, store, clock, keys, log } = this.parts;
    try {
      pipeline.setEngine(buildOrThrow({ ...this.config, services: this.services }, store, clock, keys));
      log.info("answers rebuilt", { why });
    } catch (err) {
      log.error("could not rebuild answers; the previous ones keep serving", { why, error: errorMessage(err) });
    }
  }

  /**
   * What agents claim changed (overwatch mode): their claims go to the health engine; a backend or
   * service that came or went also changes what is probed and answered.
   */
  applyAgents(why: string): void {
    const { checks, health, log } = this.parts;
    const view = this.agentView(this.config);
    const shape = JSON.stringify(view.services.map((s) => [s.fqdn, s.backends.map((b) => `${b.address}|${b.port}`)]));
    if (shape !== this.servicesShape) {
      this.servicesShape = shape;
      this.services = view.services;
      checks.configure(view.services);
      this.parts.lb.setServices(view.services);
      this.rebuildAnswers(why);
      log.info("agent backends changed", { why, services: view.services.length });
    }
    health.setAgentClaims(view.claims, why);
    this.agentTargets = new Set([...view.claims.keys()].map((key) => key.slice(key.indexOf("|") + 1)));
  }

  /** What the agent series read (overwatch mode), else undefined. */
  agentMetrics() {
    const { agents, clock } = this.parts;
    if (!agents) return undefined;
    return { counts: () => agents.counts(clock.now()), announces: (address: string, port: number) => this.agentTargets.has(`${address}|${port}`) };
  }

  private agentView(config: Config): AgentView {
    const agents = this.parts.agents;
    return agents ? withAgentBackends(config, agents.backends(this.parts.clock.now())) : { services: config.services, claims: new Map() };
  }

  async stop(): Promise<void> {
    const { dns, checks, health, pipeline, store, log, keys, cluster, lb } = this.parts;
    this.api?.stop();
    this.metrics?.stop();
    lb.close();
    // Leaving tells the peers at once, so they do not wait out a suspicion to stop counting this node.
    await cluster?.stop();
    keys?.stop();
    dns.close();
    checks.stop();
    health.close();
    pipeline.close();
    store.close();
    log.info("vigil stopped");
  }

  /**
   * After a reload: the same address keeps its socket and swaps in an app built from the new config
   * (a reload asked for through the API itself must not cut its own connection); otherwise the
   * listener moves.
   */
  private reconcileApi(previous: Config["api"]): void {
    const next = this.config.api;
    if (JSON.stringify(next) === JSON.stringify(previous)) return;
    const sameSocket = this.api && next.enabled && JSON.stringify(next.address) === JSON.stringify(previous.address);
    if (sameSocket) {
      this.api!.swap(this.buildApiApp(this.config));
      return;
    }
    this.api?.stop();
    this.api = this.startApi(this.config);
  }

  private startApi(config: Config): ApiServer | undefined {
    return config.api.enabled ? serveApi(this.buildApiApp(config), config.api.address) : undefined;
  }

  private buildApiApp(config: Config) {
    const { health, keys, clock, store, pipeline, log } = this.parts;
    return buildApi({
      mount: [
        ...(keys ? [dnssecRoutes({ keyring: keys.keyring, sync: keys.sync, token: config.api.token, now: () => clock.now() })] : []),
        clusterRoutes(() => this.parts.cluster),
        agentRoutes(() => this.parts.agents, () => clock.now()),
      ],
      allowedNetworks: config.api.allowed_networks,
      access: { token: config.api.token, readOnly: config.api.read_only },
      version: `${versionInfo.version} (${versionInfo.commit})`,
      now: () => clock.now(),
      log,
      health,
      history: store.history,
      audit: store.audit,
      services: () => this.services,
      probeStats: () => this.parts.checks.stats(),
      config: () => this.config,
      reload: () => this.reload(),
      lb: this.parts.lb.api,
      resolve: (question) => explain(pipeline, question),
      isKnownType,
    });
  }

  private reloadFailed(error: string): ReloadOutcome {
    this.reloads.failed++;
    this.parts.log.error("config reload failed; the previous config keeps serving", { error });
    return { ok: false, error };
  }
}

function buildOrThrow(config: Config, store: Store, clock: Clock, keys: DnssecKeys | undefined): AnswerEngine {
  try {
    return buildEngine(config, (zone, hash) => store.zoneSerials.serialFor(zone, hash, Math.floor(clock.now() / 1000)), keys);
  } catch (err) {
    throw new StartupError(describeBuildError(err));
  }
}

function tcpLimitsOf(config: Config) {
  return { idleTimeoutMs: config.dns.tcp.idle_timeout, maxConnections: config.dns.tcp.max_connections };
}

function agentRegistryFor(config: Config, store: Store, log: Logger): AgentRegistry {
  const registry = new AgentRegistry({ pins: store.agents, config });
  registry.onEvent((event) => {
    const { type, ...fields } = event;
    (type === "agent-key-rejected" ? log.warn : log.info).call(log, `agents: ${type}`, fields);
  });
  return registry;
}
