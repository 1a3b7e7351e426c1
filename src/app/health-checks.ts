// Connects this node's own probes to the health engine: the scheduler runs each distinct target,
// every backend watching it applies its own rise/fall thresholds, and verdicts go to the engine.

import type { ServiceConfig } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { HealthEngine } from "../health/engine.ts";
import { backendKey } from "../health/snapshot.ts";
import { ProbeScheduler, type RunObserver, type SchedulerStats } from "../checks/scheduler.ts";
import { ThresholdTracker } from "../checks/thresholds.ts";
import { targetsOf, watchesByTarget, watchesOf, type Watch } from "../checks/plan.ts";
import type { ProbeResult } from "../checks/types.ts";
import { httpProbe } from "../checks/probes/http.ts";
import { tcpProbe } from "../checks/probes/tcp.ts";
import { scriptProbe } from "../checks/probes/script.ts";
import { dnsProbe } from "../checks/probes/dns.ts";
import { createIcmpProber, type IcmpProber } from "../checks/probes/icmp.ts";

export class HealthChecks {
  private readonly scheduler: ProbeScheduler;
  private byTarget = new Map<string, Watch[]>();
  /** Per backend; kept across reloads while the backend's thresholds stay the same. */
  private trackers = new Map<string, { tracker: ThresholdTracker; thresholds: string }>();
  private icmp: IcmpProber | undefined;

  constructor(
    private readonly engine: HealthEngine,
    clock: Clock,
    private readonly log: Logger,
  ) {
    this.scheduler = new ProbeScheduler({
      clock,
      probes: {
        http: httpProbe,
        https: httpProbe,
        tcp: tcpProbe,
        script: scriptProbe,
        dns: dnsProbe,
        // The ICMP sockets open only when some backend is checked by ping.
        icmp: (target, signal) => this.icmpProber().probe(target, signal),
      },
    });
    this.scheduler.onResult((key, result) => this.deliver(key, result));
  }

  /** Takes a (re)loaded config's services: new targets start, removed ones stop, the rest keep state. */
  configure(services: readonly ServiceConfig[]): void {
    const watches = watchesOf(services);
    this.byTarget = watchesByTarget(watches);
    const trackers = new Map<string, { tracker: ThresholdTracker; thresholds: string }>();
    for (const w of watches) {
      const key = backendKey(w.service, w.address, w.port);
      const thresholds = `${w.check.failure_threshold}/${w.check.success_threshold}`;
      const kept = this.trackers.get(key);
      trackers.set(key, kept?.thresholds === thresholds ? kept : { tracker: new ThresholdTracker(w.check, kept?.tracker.verdict ?? "unknown"), thresholds });
    }
    this.trackers = trackers;
    this.engine.configure(services, (service, address, port) => trackers.has(backendKey(service, address, port)));
    this.scheduler.reconcile(targetsOf(watches));
  }

  icmpMode(): string {
    return this.icmp?.describe() ?? "icmp: not in use";
  }

  stats(): SchedulerStats {
    return this.scheduler.stats();
  }

  /** Every probe run's start and outcome (metrics); returns a function that unsubscribes. */
  observeRuns(observer: RunObserver): () => void {
    return this.scheduler.observe(observer);
  }

  stop(): void {
    this.scheduler.stop();
    this.icmp?.close();
  }

  private deliver(targetKey: string, result: ProbeResult): void {
    for (const w of this.byTarget.get(targetKey) ?? []) {
      const entry = this.trackers.get(backendKey(w.service, w.address, w.port));
      if (!entry) continue;
      const seen = entry.tracker.observe(result);
      this.engine.setVerdict(w.service, w.address, w.port, seen.verdict, seen.detail);
    }
  }

  private icmpProber(): IcmpProber {
    if (!this.icmp) {
      this.icmp = createIcmpProber();
      this.log.info("icmp probes ready", { mode: this.icmp.describe() });
    }
    return this.icmp;
  }
}
