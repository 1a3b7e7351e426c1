// Runs every distinct probe target on its interval from one timer: a min-heap of due times arms a
// single clock timer for the earliest. First runs are spread over the interval; later runs follow a
// fixed grid with a little jitter; at most maxConcurrent probes run at once and the rest wait in
// order; each run is cut off at its check's timeout.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { RecentSamples } from "./recent-samples.ts";
import { startTimedRun } from "./timed-run.ts";
import { DueHeap } from "./timer-heap.ts";
import type { Probe, ProbeKind, ProbeResult, ProbeTarget } from "./types.ts";

export type ResultListener = (key: string, result: ProbeResult, at: number) => void;

/** Sees every run as it starts and ends, with its target (metrics count them by probe kind). */
export interface RunObserver {
  started(target: ProbeTarget, lateMs: number): void;
  finished(target: ProbeTarget, result: ProbeResult): void;
}

export interface ProbeSchedulerOptions {
  clock: Clock;
  /** The probe for each kind; a target whose kind has none is reported down. */
  probes: Partial<Record<ProbeKind, Probe>>;
  /** Probes running at once; due runs beyond it wait in order. Default 256. */
  maxConcurrent?: number;
  /** Later runs land within ± this fraction of the interval around their grid time. Default 0.1. */
  jitter?: number;
  /** Uniform in [0, 1); injectable so tests decide the spread and the jitter. Default Math.random. */
  random?: () => number;
  /** How many recent runs the lateness percentiles cover. Default 1000. */
  latenessWindow?: number;
}

export interface SchedulerStats {
  targets: number;
  running: number;
  queued: number;
  /** Runs skipped because the target's previous run was still running or waiting. */
  skippedOverlaps: number;
  /** How late runs started after their due time, ms, over the recent window. */
  lateness: { p50: number; p99: number; samples: number };
}

interface Scheduled {
  target: ProbeTarget;
  /** Grid time of the last run dispatched; later runs stay on this grid, so jitter never accumulates. */
  lastNominal?: number;
  /** The heap entry that is this target's next run; any other entry for it is stale. */
  next?: PlannedRun;
  /** Cancels the run in flight, if one is. */
  cancelRun?: () => void;
  queued: boolean;
}

interface PlannedRun {
  scheduled: Scheduled;
  nominal: number;
}

const missingProbe: Probe = async (target) => ({
  status: "down",
  detail: `no ${target.check.type} probe available`,
  durationMs: 0,
});

export class ProbeScheduler {
  /** Resolves once every target of the first reconcile has produced a result (or was removed). */
  readonly firstRound: Promise<void>;
  private resolveFirstRound!: () => void;
  /** Keys still owing their first result; undefined until the first reconcile. */
  private firstRoundPending: Set<string> | undefined;

  private readonly clock: Clock;
  private readonly probes: Partial<Record<ProbeKind, Probe>>;
  private readonly maxConcurrent: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly lateness: RecentSamples;

  private readonly targets = new Map<string, Scheduled>();
  private readonly heap = new DueHeap<PlannedRun>();
  private timer: TimerHandle | undefined;
  private armedFor: number | undefined;
  private waiting: { scheduled: Scheduled; due: number }[] = [];
  private running = 0;
  private skippedOverlaps = 0;
  private readonly listeners = new Set<ResultListener>();
  private readonly observers = new Set<RunObserver>();
  private stopped = false;

  constructor(options: ProbeSchedulerOptions) {
    this.clock = options.clock;
    this.probes = options.probes;
    this.maxConcurrent = options.maxConcurrent ?? 256;
    this.jitter = options.jitter ?? 0.1;
    this.random = options.random ?? Math.random;
    this.lateness = new RecentSamples(options.latenessWindow ?? 1000);
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new Error(`maxConcurrent: expected a whole number of at least 1, got ${this.maxConcurrent}`);
    }
    // Below half an interval, two runs of one target can never trade places.
    if (!(this.jitter >= 0 && this.jitter < 0.5)) {
      throw new Error(`jitter: expected a fraction of the interval from 0 to below 0.5, got ${this.jitter}`);
    }
    this.firstRound = new Promise((resolve) => (this.resolveFirstRound = resolve));
  }

  /** Returns a function that unsubscribes. */
  onResult(listener: ResultListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Makes the scheduled targets these: new keys start (first run spread over their interval),
   * missing keys stop (a result in flight is dropped), kept keys keep their schedule; a changed
   * interval applies from the next run, counted from the last one.
   */
  reconcile(targets: readonly ProbeTarget[]): void {
    if (this.stopped) return;
    const wanted = new Map(targets.map((t) => [t.key, t]));
    for (const [key, scheduled] of this.targets) if (!wanted.has(key)) this.remove(key, scheduled);
    this.startWaiting();
    for (const target of wanted.values()) {
      const existing = this.targets.get(target.key);
      if (existing) this.update(existing, target);
      else this.add(target);
    }
    this.firstRoundPending ??= new Set(wanted.keys());
    this.checkFirstRound();
    this.arm();
  }

  /** Returns a function that unsubscribes. */
  observe(observer: RunObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  firstRoundDone(): boolean {
    return this.firstRoundPending?.size === 0;
  }

  stats(): SchedulerStats {
    return {
      targets: this.targets.size,
      running: this.running,
      queued: this.waiting.length,
      skippedOverlaps: this.skippedOverlaps,
      lateness: { p50: this.lateness.percentile(50), p99: this.lateness.percentile(99), samples: this.lateness.count },
    };
  }

  /**
   * Stops every target; results still in flight are dropped, and later reconciles do nothing. Like
   * any removal it settles the first round, so nothing waits on it forever.
   */
  stop(): void {
    for (const [key, scheduled] of this.targets) this.remove(key, scheduled);
    this.stopped = true;
    this.checkFirstRound();
    this.arm();
  }

  private add(target: ProbeTarget): void {
    const scheduled: Scheduled = { target, queued: false };
    this.targets.set(target.key, scheduled);
    this.planFirstRun(scheduled);
  }

  private update(scheduled: Scheduled, target: ProbeTarget): void {
    const intervalChanged = scheduled.target.check.interval !== target.check.interval;
    scheduled.target = target;
    if (!intervalChanged) return;
    if (scheduled.lastNominal === undefined) this.planFirstRun(scheduled);
    else this.planAfter(scheduled, scheduled.lastNominal);
  }

  private remove(key: string, scheduled: Scheduled): void {
    this.targets.delete(key);
    scheduled.next = undefined;
    if (scheduled.cancelRun) {
      scheduled.cancelRun();
      scheduled.cancelRun = undefined;
      this.running--;
    }
    if (scheduled.queued) this.waiting = this.waiting.filter((w) => w.scheduled !== scheduled);
    this.firstRoundPending?.delete(key);
  }

  /** Spread uniformly over the interval, so targets added together do not fire together. */
  private planFirstRun(scheduled: Scheduled): void {
    const nominal = this.clock.now() + Math.floor(this.random() * scheduled.target.check.interval);
    this.plan(scheduled, nominal, nominal);
  }

  /** The next grid time after the previous one that can still land in the future, plus jitter. */
  private planAfter(scheduled: Scheduled, previousNominal: number): void {
    const interval = scheduled.target.check.interval;
    const maxJitter = interval * this.jitter;
    // Grid times the timer is already too late for are skipped rather than run in a burst.
    const notBefore = this.clock.now() + maxJitter;
    const steps = Math.max(1, Math.floor((notBefore - previousNominal) / interval) + 1);
    const nominal = previousNominal + steps * interval;
    this.plan(scheduled, nominal, nominal + Math.trunc((2 * this.random() - 1) * maxJitter));
  }

  private plan(scheduled: Scheduled, nominal: number, due: number): void {
    const run = { scheduled, nominal };
    scheduled.next = run;
    this.heap.push(due, run);
  }

  /** Keeps exactly one clock timer, set for the earliest live run. */
  private arm(): void {
    let top = this.heap.peek();
    while (top && !isLive(top.value)) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (top?.due === this.armedFor) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = top?.due;
    if (top) this.timer = this.clock.setTimeout(() => this.fire(), top.due - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (isLive(top.value)) this.dispatch(top.value, top.due);
    }
    this.arm();
  }

  private dispatch(run: PlannedRun, due: number): void {
    const scheduled = run.scheduled;
    scheduled.lastNominal = run.nominal;
    this.planAfter(scheduled, run.nominal);
    if (scheduled.cancelRun || scheduled.queued) {
      this.skippedOverlaps++;
      return;
    }
    if (this.running < this.maxConcurrent) {
      this.start(scheduled, due);
      return;
    }
    scheduled.queued = true;
    this.waiting.push({ scheduled, due });
  }

  private start(scheduled: Scheduled, due: number): void {
    const late = this.clock.now() - due;
    this.lateness.record(late);
    for (const observer of this.observers) observer.started(scheduled.target, late);
    this.running++;
    const probe = this.probes[scheduled.target.check.type] ?? missingProbe;
    scheduled.cancelRun = startTimedRun(probe, scheduled.target, this.clock, (result, at) => this.finish(scheduled, result, at));
  }

  private startWaiting(): void {
    while (this.running < this.maxConcurrent) {
      const next = this.waiting.shift();
      if (!next) return;
      next.scheduled.queued = false;
      this.start(next.scheduled, next.due);
    }
  }

  /** Only runs of live targets get here: removing a target cancels its run. */
  private finish(scheduled: Scheduled, result: ProbeResult, at: number): void {
    for (const observer of this.observers) observer.finished(scheduled.target, result);
    scheduled.cancelRun = undefined;
    this.running--;
    this.startWaiting();
    this.firstRoundPending?.delete(scheduled.target.key);
    this.checkFirstRound();
    for (const listener of this.listeners) listener(scheduled.target.key, result, at);
  }

  private checkFirstRound(): void {
    if (this.firstRoundDone()) this.resolveFirstRound();
  }
}

function isLive(run: PlannedRun): boolean {
  return run.scheduled.next === run;
}
