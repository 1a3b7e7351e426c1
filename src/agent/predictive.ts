// Predictive signals ("bleeding"): a backend whose host is near its CPU or memory limit, or whose
// probes have started failing now and then, is reported draining before it fails outright, so the
// overwatches take it out of the answers while it can still finish what it has. Each backend with
// `predictive.enabled` is judged every `predictive.check_interval` against its own thresholds; host
// readings are shared by the backends sampled at the same interval.

import type { AgentBackendConfig, PredictiveConfig } from "../config/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { backendKey } from "../health/snapshot.ts";
import { ErrorRates } from "./error-rate.ts";
import { procSampler, type HostReadings, type HostSampler } from "./host-load.ts";

export interface Readings extends HostReadings {
  /** Percent of the backend's probe runs that failed in the last minute. */
  errorPercent?: number;
}

/** Why the readings make a backend bleed ("cpu 93% > 85%, errors 8% > 5%"), or undefined when they do not. */
export function assess(config: PredictiveConfig, readings: Readings): string | undefined {
  const over: string[] = [];
  const check = (name: string, value: number | undefined, threshold: number) => {
    if (value !== undefined && value > threshold) over.push(`${name} ${Math.round(value)}% > ${threshold}%`);
  };
  check("cpu", readings.cpuPercent, config.cpu_threshold);
  check("memory", readings.memoryPercent, config.memory_threshold);
  check("errors", readings.errorPercent, config.error_rate_threshold);
  return over.length > 0 ? over.join(", ") : undefined;
}

export interface PredictiveTarget {
  service: string;
  address: string;
  port: number;
  config: PredictiveConfig;
}

export class PredictiveSignals {
  private readonly errors = new ErrorRates();
  private targets: PredictiveTarget[] = [];
  private readonly reasons = new Map<string, string>();
  private readonly timers = new Set<TimerHandle>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    /** A sampler per sampling interval; injectable so tests feed readings. */
    private readonly newSampler: () => HostSampler = procSampler,
  ) {}

  /** Takes a (re)loaded config's backends: sampling restarts; backends no longer watched stop bleeding. */
  configure(backends: readonly AgentBackendConfig[]): void {
    this.cancelTimers();
    this.targets = backends.flatMap((b) => (b.predictive?.enabled ? [{ service: b.service, address: b.address, port: b.port, config: b.predictive }] : []));
    this.errors.keepOnly(new Set(backends.map((b) => `${b.address}|${b.port}`)));
    const keys = new Set(this.targets.map(keyOf));
    let changed = false;
    for (const key of [...this.reasons.keys()]) {
      if (keys.has(key)) continue;
      this.reasons.delete(key);
      changed = true;
    }
    const byInterval = new Map<number, PredictiveTarget[]>();
    for (const t of this.targets) byInterval.set(t.config.check_interval, [...(byInterval.get(t.config.check_interval) ?? []), t]);
    for (const [interval, targets] of byInterval) {
      const sampler = this.newSampler();
      sampler.sample(); // the CPU share needs a first reading to measure from
      this.every(interval, () => this.judge(targets, sampler.sample()));
    }
    if (changed) this.notify();
  }

  /** One probe run of a backend's target finished (a warning is not a failure). */
  recordProbe(address: string, port: number, failed: boolean): void {
    this.errors.record(address, port, failed, this.clock.now());
  }

  /** Why the backend is bleeding now, or undefined. */
  bleeding(service: string, address: string, port: number): string | undefined {
    return this.reasons.get(backendKey(service, address, port));
  }

  /** Every backend with predictive signals on, and whether it bleeds now (metrics). */
  watched(): (PredictiveTarget & { bleeding: boolean })[] {
    return this.targets.map((t) => ({ ...t, bleeding: this.reasons.has(keyOf(t)) }));
  }

  /** Called when a backend starts or stops bleeding; returns a function that unsubscribes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.cancelTimers();
  }

  private judge(targets: readonly PredictiveTarget[], host: HostReadings): void {
    const now = this.clock.now();
    let changed = false;
    for (const t of targets) {
      const key = keyOf(t);
      const reason = assess(t.config, { ...host, errorPercent: this.errors.percent(t.address, t.port, now) });
      // A new reason for a backend already bleeding rides on the next heartbeat; only a start or stop is news.
      if ((reason === undefined) !== !this.reasons.has(key)) changed = true;
      if (reason === undefined) this.reasons.delete(key);
      else this.reasons.set(key, reason);
    }
    if (changed) this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private every(ms: number, run: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      run();
      this.every(ms, run);
    }, ms);
    this.timers.add(timer);
  }

  private cancelTimers(): void {
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }
}

const keyOf = (t: { service: string; address: string; port: number }) => backendKey(t.service, t.address, t.port);
