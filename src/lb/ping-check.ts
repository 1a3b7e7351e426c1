// The balancer's own health check (`healthcheck: { kind: ping }`): a TCP connect to every member of a
// pool each interval, on top of what vigil's health view says. `fails` failures in a row hold a member
// out of elections, `passes` successes let it back. The connect is the tcp probe's, run and cut off
// at the timeout as the probe scheduler runs it; thresholds count as the scheduler's do.

import type { LbServerConfig } from "../config/types.ts";
import { tcpProbe } from "../checks/probes/tcp.ts";
import { ThresholdTracker } from "../checks/thresholds.ts";
import { startTimedRun } from "../checks/timed-run.ts";
import type { Probe, ProbeResult, ProbeTarget } from "../checks/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Pool, PoolMember } from "./pool.ts";

export type PingSettings = NonNullable<LbServerConfig["healthcheck"]>;

interface Watch {
  target: ProbeTarget;
  tracker: ThresholdTracker;
  next?: TimerHandle;
  cancelRun?: () => void;
}

export class PingCheck {
  private readonly watches = new Map<PoolMember, Watch>();

  /** `probe` is the tcp probe; a test may wrap it to see each result. */
  constructor(
    private readonly settings: PingSettings,
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly probe: Probe = tcpProbe,
  ) {}

  /** Call after every pool.setTargets: new members are pinged at once, removed ones no more. */
  membersChanged(): void {
    const members = new Set(this.pool.members());
    for (const [member, watch] of this.watches) {
      if (members.has(member)) continue;
      this.unwatch(watch);
      this.watches.delete(member);
    }
    for (const member of members) {
      if (this.watches.has(member)) continue;
      const watch = this.watchOf(member);
      this.watches.set(member, watch);
      watch.next = this.clock.setTimeout(() => this.run(member, watch), 0);
    }
  }

  stop(): void {
    for (const watch of this.watches.values()) this.unwatch(watch);
    this.watches.clear();
  }

  private watchOf(member: PoolMember): Watch {
    const { interval, timeout, fails, passes } = this.settings;
    const check = { type: "tcp" as const, interval, timeout, failure_threshold: fails, success_threshold: passes };
    // Members start in (the pool's default), so a new member needs `fails` failures like any other.
    const tracker = new ThresholdTracker(check, member.healthy ? "up" : "down");
    return { target: { key: member.key, check, address: member.target.address, port: member.target.port }, tracker };
  }

  private run(member: PoolMember, watch: Watch): void {
    const startedAt = this.clock.now();
    watch.next = undefined;
    watch.cancelRun = startTimedRun(this.probe, watch.target, this.clock, (result) => {
      watch.cancelRun = undefined;
      this.observe(member, watch, result);
      // On the interval's grid; a run that took longer than the interval is followed at once.
      const wait = Math.max(0, startedAt + this.settings.interval - this.clock.now());
      watch.next = this.clock.setTimeout(() => this.run(member, watch), wait);
    });
  }

  private observe(member: PoolMember, watch: Watch, result: ProbeResult): void {
    const seen = watch.tracker.observe(result);
    if (!seen.changed) return;
    const healthy = seen.verdict === "up";
    this.pool.setHealthy(member.key, healthy);
    if (healthy) this.log.info("lb backend back in: ping check passes", { backend: member.key, detail: seen.detail });
    else this.log.warn("lb backend held out: ping check fails", { backend: member.key, detail: seen.detail });
  }

  private unwatch(watch: Watch): void {
    watch.next?.cancel();
    watch.cancelRun?.();
  }
}
