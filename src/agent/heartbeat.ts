// The agent's heartbeat: every heartbeat.interval, and at once when something worth telling changed
// (a verdict, a backend starting or stopping to bleed, an overwatch coming into reach, a reload), it
// publishes its claims. Gossip is best effort, so claims are sent whole every time: a lost one costs
// one interval. A heartbeat with no overwatch in reach, or that cannot be built, counts as failed;
// heartbeat.missed_threshold failures in a row is when the overwatches are about to count this agent
// stale, and the log says so once (and once more when heartbeats get through again).

import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { errorMessage } from "../lib/errors.ts";
import { nextClaimSeq } from "../cluster/claims.ts";
import type { SignedClaim } from "./claims.ts";

export interface HeartbeatOptions {
  clock: Clock;
  log: Logger;
  intervalMs: number;
  missedThreshold: number;
  /** This heartbeat's signed claims; throws when they cannot be built. */
  claims(seq: number, now: number): SignedClaim[];
  /** Overwatches alive in the gossip view now. */
  overwatchesInReach(): number;
  publish(claim: SignedClaim): void;
}

export class Heartbeats {
  readonly counts = { sent: 0, failed: 0 };
  private seq = 0;
  private failedInARow = 0;
  private timer: TimerHandle | undefined;
  private queued = false;
  private phase: "new" | "running" | "stopped" = "new";

  constructor(private options: HeartbeatOptions) {}

  /** Sends the first heartbeat now and keeps the beat; does nothing once stopped. */
  start(): void {
    if (this.phase !== "new") return;
    this.phase = "running";
    this.beat();
  }

  /** One heartbeat as soon as the current task is done: several changes in one probe round make one. */
  soon(): void {
    if (this.phase !== "running" || this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (this.phase === "running") this.beat();
    });
  }

  /** A reload: the next heartbeats follow the new interval and threshold. */
  reconfigure(timing: { intervalMs: number; missedThreshold: number }): void {
    this.options = { ...this.options, ...timing };
  }

  stop(): void {
    this.phase = "stopped";
    this.timer?.cancel();
  }

  private beat(): void {
    const { clock, log, intervalMs } = this.options;
    this.timer?.cancel();
    this.timer = clock.setTimeout(() => this.beat(), intervalMs);
    const now = clock.now();
    this.seq = nextClaimSeq(this.seq, now);
    let claims: { key: string; payload: Uint8Array }[];
    try {
      claims = this.options.claims(this.seq, now);
    } catch (err) {
      log.error("heartbeat: cannot build claims", { error: errorMessage(err) });
      return this.failed("claims could not be built");
    }
    for (const claim of claims) this.options.publish(claim);
    if (this.options.overwatchesInReach() === 0) return this.failed("no overwatch in reach");
    this.counts.sent++;
    if (this.failedInARow >= this.options.missedThreshold) log.info("heartbeats reach the overwatches again", { missed: this.failedInARow });
    this.failedInARow = 0;
  }

  private failed(why: string): void {
    this.counts.failed++;
    this.failedInARow++;
    const { missedThreshold, log } = this.options;
    if (this.failedInARow === missedThreshold) {
      log.warn("heartbeats are not reaching any overwatch: they will soon count this agent's backends stale", { why, missed: this.failedInARow, missed_threshold: missedThreshold });
    } else {
      log.debug("heartbeat not delivered", { why });
    }
  }
}
