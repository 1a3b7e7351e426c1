// Agent mode: the node that runs beside an application. It probes its own backends, judges the
// predictive signals, and gossips one signed claim per service to the overwatches every heartbeat.
// It serves no DNS and no API. Start order: identity → store → health → checks → predictive →
// gossip → heartbeats → metrics; the first heartbeat waits for the first probe round. Stop is the
// reverse.

import type { AgentBackendConfig, Config } from "../config/types.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { createLogger, type Logger, type LogSettings } from "../lib/log.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { versionInfo } from "../lib/version.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { HealthBoard } from "../health/board.ts";
import { HealthEngine } from "../health/engine.ts";
import { backendKey } from "../health/snapshot.ts";
import { loadOrCreateIdentity } from "../agent/identity.ts";
import { agentServices } from "../agent/services.ts";
import { PredictiveSignals } from "../agent/predictive.ts";
import type { HostSampler } from "../agent/host-load.ts";
import { AgentClaims, type AgentView } from "../agent/claims.ts";
import { Heartbeats } from "../agent/heartbeat.ts";
import { buildAgentMetrics } from "../metrics/agent-mode.ts";
import { AgentGossip } from "./agent-gossip.ts";
import { HealthChecks } from "./health-checks.ts";
import { MetricsEndpoint } from "./metrics.ts";
import type { ConfigSource, NodeOptions, ReloadOutcome } from "./node.ts";

export interface AgentNodeOptions extends NodeOptions {
  /** Host CPU and memory readings for the predictive signals; /proc by default. */
  hostSampler?: () => HostSampler;
}

interface Parts {
  log: Logger;
  logSettings: LogSettings;
  store: Store;
  health: HealthEngine;
  checks: HealthChecks;
  predictive: PredictiveSignals;
  gossip: AgentGossip;
  claims: AgentClaims;
}

/** Keys read once at start: a reload that changes them is logged and waits for a restart. */
const RESTART_ONLY: readonly [string, (c: Config) => unknown][] = [
  ["identity", (c) => c.identity],
  ["data_dir", (c) => c.data_dir],
  ["gossip.encryption_key", (c) => c.gossip.encryption_key],
  ["gossip.keyring", (c) => c.gossip.keyring],
  ["gossip.bind_address", (c) => c.gossip.bind_address],
  ["gossip.advertise_address", (c) => c.gossip.advertise_address],
];

export class AgentNode {
  readonly reloads = { succeeded: 0, failed: 0 };
  readonly heartbeats: Heartbeats;
  private metrics: MetricsEndpoint | undefined;
  private readonly ready: Promise<void>;
  private markReady = () => {};
  private isReady = false;

  private constructor(
    private config: Config,
    private readonly source: ConfigSource,
    private readonly parts: Parts,
    clock: Clock,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.heartbeats = new Heartbeats({
      clock,
      log: parts.log,
      intervalMs: config.heartbeat.interval,
      missedThreshold: config.heartbeat.missed_threshold,
      claims: (seq, now) => parts.claims.sign(this.view(), seq, now, parts.gossip.maxPayloadBytes),
      overwatchesInReach: () => parts.gossip.overwatchesInReach(),
      publish: (claim) => parts.gossip.publish(claim),
    });
  }

  static async start(source: ConfigSource, options: AgentNodeOptions = {}): Promise<AgentNode> {
    const clock = options.clock ?? systemClock;
    const config = source();
    if (config.mode !== "agent") throw new StartupError(`an agent node needs a config in agent mode, not ${config.mode}`);
    const logSettings: LogSettings = { ...config.logging };
    const log = createLogger(logSettings, options.logSink, { node: config.identity.node_id });
    const { identity, created, file } = loadOrCreateIdentity(config.data_dir, clock.now());
    log.info(created ? "agent identity created" : "agent identity loaded", { agent_id: identity.agentId, file });
    const store = openStore(config.data_dir);
    // What has started so far, newest first, so a failure part-way undoes it in reverse order.
    const undo: (() => void)[] = [() => store.close()];
    try {
      const health = new HealthEngine({ clock, board: new HealthBoard(clock), history: store.history, overrides: store.overrides, log });
      const checks = new HealthChecks(health, clock, log);
      const predictive = new PredictiveSignals(clock, options.hostSampler);
      undo.unshift(() => checks.stop(), () => health.close(), () => predictive.stop());
      checks.observeRuns({ started() {}, finished: (target, result) => predictive.recordProbe(target.address, target.port, result.status === "down") });
      // The node does not exist yet when gossip starts; an overwatch arriving before it is greeted by the first heartbeat.
      let onOverwatch = () => {};
      // The agent id keeps the name unique when several agents share a host name.
      const gossip = await AgentGossip.start(config, `${config.identity.node_id}/${identity.agentId}`, () => onOverwatch(), clock, log);
      undo.unshift(() => void gossip.stop());
      const claims = new AgentClaims(identity, { agentId: identity.agentId, token: config.identity.service_token!, region: config.identity.region ?? "" });
      try {
        claims.check(config.backends, gossip.maxPayloadBytes);
      } catch (err) {
        throw new StartupError(`backends: ${errorMessage(err)}`);
      }
      const node = new AgentNode(config, source, { log, logSettings, store, health, checks, predictive, gossip, claims }, clock);
      onOverwatch = () => node.heartbeats.soon();
      undo.unshift(() => node.heartbeats.stop());
      health.onOwnVerdictChange(() => node.verdictChanged());
      predictive.onChange(() => node.heartbeats.soon());
      checks.configure(agentServices(config.backends));
      predictive.configure(config.backends);
      node.verdictChanged(); // with no health check configured, the first round is already done
      node.metrics = new MetricsEndpoint(node.buildMetrics(gossip), config.metrics, log);
      log.info("vigil started", {
        mode: config.mode,
        agent_id: identity.agentId,
        services: [...new Set(config.backends.map((b) => b.service))],
        backends: config.backends.length,
        overwatches: config.gossip.overwatch_nodes.map(formatHostPort),
        gossip: gossip.address(),
        metrics: node.metrics.address(),
        icmp: checks.icmpMode(),
      });
      void node.ready.then(() => {
        log.info("ready: first probe round done", { backends: config.backends.length });
        node.heartbeats.start();
      });
      return node;
    } catch (err) {
      for (const step of undo) step();
      throw err;
    }
  }

  get log(): Logger {
    return this.parts.log;
  }

  get agentId(): string {
    return this.parts.claims.who.agentId;
  }

  /** "host:port" the agent gossips on. */
  gossipAddress(): string {
    return this.parts.gossip.address();
  }

  /** "host:port" of /metrics, or null when metrics are off. */
  metricsAddress(): string | null {
    return this.metrics?.address() ?? null;
  }

  /** Resolves once every checked backend has a verdict of its own; heartbeats start then. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /**
   * Reads and checks the whole new config before touching anything; an invalid one leaves the old
   * one running. Backends, their checks and predictive settings, the overwatches, heartbeat timing,
   * metrics and logging take effect; identity, data_dir and the gossip keys and addresses need a restart.
   */
  async reload(): Promise<ReloadOutcome> {
    const { checks, predictive, gossip, claims, log, logSettings } = this.parts;
    let next: Config;
    try {
      next = this.source();
      if (next.mode !== "agent") throw new Error(`mode changed to ${next.mode}: that needs a restart`);
      claims.check(next.backends, gossip.maxPayloadBytes);
    } catch (err) {
      return this.reloadFailed(errorMessage(err));
    }
    for (const [key, read] of RESTART_ONLY) {
      if (JSON.stringify(read(next)) !== JSON.stringify(read(this.config))) log.warn(`${key} changed: takes effect at the next restart`, { key });
    }
    const old = this.config;
    this.config = {
      ...next,
      identity: old.identity,
      data_dir: old.data_dir,
      gossip: { ...next.gossip, encryption_key: old.gossip.encryption_key, keyring: old.gossip.keyring, bind_address: old.gossip.bind_address, advertise_address: old.gossip.advertise_address },
    };
    checks.configure(agentServices(next.backends));
    predictive.configure(next.backends);
    gossip.reconfigure(this.config);
    this.heartbeats.reconfigure({ intervalMs: next.heartbeat.interval, missedThreshold: next.heartbeat.missed_threshold });
    this.metrics?.reconfigure(next.metrics);
    Object.assign(logSettings, next.logging);
    this.reloads.succeeded++;
    log.info("config reloaded", { backends: next.backends.length });
    this.heartbeats.soon();
    return { ok: true };
  }

  async stop(): Promise<void> {
    const { checks, health, predictive, gossip, store, log } = this.parts;
    this.heartbeats.stop();
    predictive.stop();
    this.metrics?.stop();
    await gossip.stop();
    checks.stop();
    health.close();
    store.close();
    log.info("vigil stopped");
  }

  /** What a heartbeat claims now: each backend's state from the health engine, and its predictive signal. */
  private view(): AgentView {
    const { health, predictive } = this.parts;
    const seen = new Map(health.view().map((b) => [backendKey(b.service, b.address, b.port), b]));
    return {
      backends: this.config.backends,
      status: (b: AgentBackendConfig) => {
        const v = seen.get(backendKey(b.service, b.address, b.port));
        if (!v || (v.watched && v.verdict === "unknown")) return undefined;
        return { up: v.state === "up", detail: v.watched ? v.verdictDetail : "no health check configured" };
      },
      bleeding: (b: AgentBackendConfig) => predictive.bleeding(b.service, b.address, b.port),
    };
  }

  /** A verdict changed: the first probe round may be done now; after it, the overwatches hear at once. */
  private verdictChanged(): void {
    if (this.isReady) return this.heartbeats.soon();
    if (this.parts.health.view().some((b) => b.watched && b.verdict === "unknown")) return;
    this.isReady = true;
    this.markReady();
  }

  private buildMetrics(gossip: AgentGossip) {
    const { health, checks, predictive } = this.parts;
    return buildAgentMetrics({
      agent: {
        backends: () => this.config.backends.length,
        heartbeats: () => this.heartbeats.counts,
        predictive: () => predictive.watched(),
      },
      health,
      probes: checks,
      gossip: () => gossip,
      node: { ...versionInfo, reloads: this.reloads },
    });
  }

  private reloadFailed(error: string): ReloadOutcome {
    this.reloads.failed++;
    this.parts.log.error("config reload failed; the previous config keeps running", { error });
    return { ok: false, error };
  }
}
