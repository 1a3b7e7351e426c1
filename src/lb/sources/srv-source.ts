// Backends discovered by SRV lookups, repeated every `interval` (0: once). A failed lookup keeps the
// last list or empties it, as `failpolicy` says. Failures are logged when they start or change and
// recovery once, not on every interval of a server that stays down.

import type { LbBackendSource } from "../../config/types.ts";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { formatHostPort } from "../../lib/hostport.ts";
import type { Logger } from "../../lib/log.ts";
import { lookupSrv, type SrvLookupResult } from "../srv-lookup.ts";
import type { BackendSource, LbTarget } from "../types.ts";
import { sameTargets } from "./same-targets.ts";

export type SrvSourceConfig = LbBackendSource & { kind: "srv" };

export interface SrvSourceDeps {
  clock: Clock;
  log: Logger;
}

export class SrvSource implements BackendSource {
  private onChange: ((targets: readonly LbTarget[]) => void) | undefined;
  private offered: readonly LbTarget[] | undefined;
  private timer: TimerHandle | undefined;
  private inFlight: { controller: AbortController; deadline: TimerHandle } | undefined;
  /** The failure logged last; undefined while lookups succeed. */
  private failing: string | undefined;
  private unresolved = "";

  constructor(
    private readonly config: SrvSourceConfig,
    private readonly deps: SrvSourceDeps,
  ) {}

  start(onChange: (targets: readonly LbTarget[]) => void): void {
    this.onChange = onChange;
    this.run();
  }

  stop(): void {
    this.onChange = undefined;
    this.timer?.cancel();
    this.inFlight?.deadline.cancel();
    this.inFlight?.controller.abort(new Error("stopped"));
    this.inFlight = undefined;
  }

  private run(): void {
    const { clock } = this.deps;
    const startedAt = clock.now();
    const controller = new AbortController();
    const deadline = clock.setTimeout(() => controller.abort(new Error(`timeout after ${this.config.timeout} ms`)), this.config.timeout);
    const run = { controller, deadline };
    this.inFlight = run;
    void lookupSrv(this.config.lookup_server, this.config.pattern, controller.signal).then(
      (result) => this.finish(run, startedAt, () => this.succeeded(result)),
      (err: unknown) => this.finish(run, startedAt, () => this.failed(errorMessage(err))),
    );
  }

  /** Lookups follow a grid from the first start; one that overran the interval is followed at once. */
  private finish(run: NonNullable<SrvSource["inFlight"]>, startedAt: number, outcome: () => void): void {
    run.deadline.cancel();
    // Stopped meanwhile: the outcome is nobody's business any more.
    if (this.inFlight !== run) return;
    this.inFlight = undefined;
    outcome();
    if (this.config.interval === 0) return;
    const wait = Math.max(0, startedAt + this.config.interval - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => this.run(), wait);
  }

  private succeeded({ targets, unresolved }: SrvLookupResult): void {
    const { log } = this.deps;
    if (this.failing !== undefined) {
      log.info("lb srv lookup recovered", { ...this.where(), targets: targets.length });
      this.failing = undefined;
    }
    const names = unresolved.join(" ");
    if (names !== this.unresolved) {
      this.unresolved = names;
      if (names) log.warn("lb srv targets without addresses", { ...this.where(), names: unresolved });
    }
    this.offer(targets);
  }

  private failed(reason: string): void {
    if (reason !== this.failing) {
      const kept = this.config.failpolicy === "keeplast" ? (this.offered?.length ?? 0) : 0;
      this.deps.log.warn("lb srv lookup failed", { ...this.where(), error: reason, failpolicy: this.config.failpolicy, targets: kept });
      this.failing = reason;
    }
    if (this.config.failpolicy === "setempty") this.offer([]);
  }

  private offer(targets: readonly LbTarget[]): void {
    if (this.offered && sameTargets(this.offered, targets)) return;
    this.offered = targets;
    this.onChange?.(targets);
  }

  private where() {
    return { pattern: this.config.pattern, lookup_server: formatHostPort(this.config.lookup_server) };
  }
}
