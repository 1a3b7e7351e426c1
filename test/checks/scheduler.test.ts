import { describe, expect, test } from "bun:test";
import { ProbeScheduler, type ProbeSchedulerOptions } from "../../src/checks/scheduler.ts";
import type { ProbeResult } from "../../src/checks/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { cycling, heldProbe, instantProbe, resultOf, runFor, seededRandom, settlePromises, targetAt, tcpCheck } from "./fakes.ts";

function schedulerWith(clock: ManualClock, options: Partial<ProbeSchedulerOptions>) {
  const scheduler = new ProbeScheduler({ clock, probes: {}, ...options });
  const results: { key: string; result: ProbeResult; at: number }[] = [];
  scheduler.onResult((key, result, at) => results.push({ key, result, at }));
  return { scheduler, results };
}

/** The first call answers `first` (the first-run spread), later calls come from `rest` (the jitter). */
function spreadThen(first: number, rest: () => number): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? first : rest());
}

const targetsNamed = (count: number, check = tcpCheck()) => Array.from({ length: count }, (_, i) => targetAt(`10.0.${i >> 8}.${i & 255}`, check));

describe("one timer for all targets", () => {
  test("a single clock timer is pending, plus one timeout timer per running probe", async () => {
    const clock = new ManualClock();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, random: seededRandom(1) });
    scheduler.reconcile(targetsNamed(50));
    expect(clock.pendingTimers()).toBe(1);
    const pendingAfterEachStep = new Set<number>();
    for (let step = 0; step < 300; step++) {
      clock.advance(clock.nextTimerDue()! - clock.now());
      await settlePromises();
      pendingAfterEachStep.add(clock.pendingTimers());
    }
    expect([...pendingAfterEachStep]).toEqual([1]);
    expect(fake.startsByKey.size).toBe(50);

    const held = heldProbe(clock);
    const busy = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0 }).scheduler;
    busy.reconcile(targetsNamed(5, tcpCheck({ interval: 60_000 })));
    await runFor(clock, 0);
    expect(held.calls).toHaveLength(5);
    expect(clock.pendingTimers()).toBe(1 + 1 + 5);
    scheduler.stop();
    busy.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("timing", () => {
  test("first runs are spread uniformly over the interval", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, random: seededRandom(42) });
    scheduler.reconcile(targetsNamed(1000));
    await runFor(clock, 999);
    const firstRuns = [...fake.startsByKey.values()].map((starts) => starts[0]! - start);
    expect(firstRuns).toHaveLength(1000);
    const perTenth = Array.from({ length: 10 }, (_, tenth) => firstRuns.filter((t) => Math.floor(t / 100) === tenth).length);
    for (const count of perTenth) expect(count).toBeWithin(60, 141);
    expect(perTenth.reduce((a, b) => a + b)).toBe(1000);
    scheduler.stop();
  });

  test("without jitter, 100 intervals later a target runs exactly on its grid", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, jitter: 0, random: () => 0.3 });
    const [target] = targetsNamed(1);
    scheduler.reconcile([target!]);
    await runFor(clock, 100 * 1000 + 500);
    expect(fake.startsOf(target!.key)).toEqual(Array.from({ length: 101 }, (_, k) => start + 300 + k * 1000));
    scheduler.stop();
  });

  test("with jitter, runs stay within ±10 % of the grid and never drift", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, random: spreadThen(0.5, seededRandom(9)) });
    const [target] = targetsNamed(1);
    scheduler.reconcile([target!]);
    await runFor(clock, 200 * 1000);
    const offsets = fake.startsOf(target!.key).map((at, k) => at - (start + 500 + k * 1000));
    expect(offsets).toHaveLength(200);
    expect(offsets[0]).toBe(0);
    for (const offset of offsets) expect(Math.abs(offset)).toBeLessThanOrEqual(100);
    expect(Math.min(...offsets)).toBeLessThan(-80);
    expect(Math.max(...offsets)).toBeGreaterThan(80);
    scheduler.stop();
  });

  test("the extremes of the random source hit the jitter bounds and no further", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, random: cycling(0.5, 0, 0.9999999) });
    const [target] = targetsNamed(1);
    scheduler.reconcile([target!]);
    await runFor(clock, 4000);
    // Calls: 0.5 spreads the first run, then 0 → -10 %, 0.9999999 → +10 % (rounded toward the grid), 0.5 → on it.
    expect(fake.startsOf(target!.key).map((at) => at - start)).toEqual([500, 1400, 2599, 3500]);
    scheduler.stop();
  });
});

describe("concurrency", () => {
  test("never more than maxConcurrent at once; the rest start in due order as slots free", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const held = heldProbe(clock);
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: held.probe }, maxConcurrent: 3, random: () => 0 });
    const targets = targetsNamed(10, tcpCheck({ interval: 60_000, timeout: 50_000 }));
    scheduler.reconcile(targets);
    await runFor(clock, 0);
    expect(held.calls).toHaveLength(3);
    expect(scheduler.stats()).toMatchObject({ running: 3, queued: 7 });
    for (let i = 0; i < 10; i++) {
      held.calls[i]!.settle(resultOf("up"));
      await runFor(clock, 10);
      expect(scheduler.stats().running).toBeLessThanOrEqual(3);
    }
    expect(held.mostAtOnce()).toBe(3);
    expect(held.calls.map((c) => c.target.key)).toEqual(targets.map((t) => t.key));
    expect(held.calls.map((c) => c.startedAt - start)).toEqual([0, 0, 0, 0, 10, 20, 30, 40, 50, 60]);
    expect(results).toHaveLength(10);
    expect(scheduler.stats()).toMatchObject({ running: 0, queued: 0, lateness: { p50: 10, p99: 60, samples: 10 } });
    scheduler.stop();
  });

  test("a target still running when it falls due again skips that run, and the skip is counted", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: held.probe }, jitter: 0, random: () => 0.5 });
    scheduler.reconcile(targetsNamed(1, tcpCheck({ interval: 1000, timeout: 10_000 })));
    await runFor(clock, 3600);
    expect(held.calls).toHaveLength(1);
    expect(scheduler.stats().skippedOverlaps).toBe(3);
    held.calls[0]!.settle(resultOf("up"));
    await runFor(clock, 1000);
    expect(results).toHaveLength(1);
    expect(held.calls).toHaveLength(2);
    scheduler.stop();
  });

  test("a target still waiting for a slot when it falls due again skips that run too", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: held.probe }, maxConcurrent: 1, jitter: 0, random: () => 0 });
    scheduler.reconcile(targetsNamed(2, tcpCheck({ interval: 1000, timeout: 10_000 })));
    await runFor(clock, 2500);
    expect(held.calls).toHaveLength(1);
    expect(scheduler.stats()).toMatchObject({ running: 1, queued: 1, skippedOverlaps: 4 });
    scheduler.stop();
  });
});

describe("timeout", () => {
  test("an unsettled probe is down at exactly the timeout; its late result is ignored", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const held = heldProbe(clock);
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0.5 });
    scheduler.reconcile(targetsNamed(1, tcpCheck({ interval: 1000, timeout: 300 })));
    await runFor(clock, 799);
    expect(held.calls).toHaveLength(1);
    expect(results).toHaveLength(0);
    expect(held.calls[0]!.signal.aborted).toBe(false);
    await runFor(clock, 1);
    const timedOut: ProbeResult = { status: "down", detail: "timeout after 300 ms", durationMs: 300 };
    expect(results).toEqual([{ key: held.calls[0]!.target.key, result: timedOut, at: start + 800 }]);
    expect(held.calls[0]!.signal.aborted).toBe(true);
    expect(scheduler.stats().running).toBe(0);
    held.calls[0]!.settle(resultOf("up"));
    await settlePromises();
    expect(results).toHaveLength(1);
    scheduler.stop();
  });
});

describe("reconcile", () => {
  test("a new target gets its own spread while a kept one stays on its schedule", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, jitter: 0, random: () => 0.5 });
    const [a, b] = targetsNamed(2);
    scheduler.reconcile([a!]);
    await runFor(clock, 1200);
    scheduler.reconcile([{ ...a! }, b!]);
    await runFor(clock, 1400);
    expect(fake.startsOf(a!.key).map((at) => at - start)).toEqual([500, 1500, 2500]);
    expect(fake.startsOf(b!.key).map((at) => at - start)).toEqual([1700]);
    expect(scheduler.stats().targets).toBe(2);
    scheduler.stop();
  });

  test("a removed target stops at once, and its result in flight is dropped", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0.5 });
    scheduler.reconcile(targetsNamed(1));
    await runFor(clock, 600);
    expect(held.calls).toHaveLength(1);
    scheduler.reconcile([]);
    expect(held.calls[0]!.signal.aborted).toBe(true);
    expect(scheduler.stats()).toMatchObject({ targets: 0, running: 0 });
    expect(clock.pendingTimers()).toBe(0);
    held.calls[0]!.settle(resultOf("up"));
    await runFor(clock, 5000);
    expect(results).toHaveLength(0);
    expect(held.calls).toHaveLength(1);
  });

  test("a longer interval applies from the next run, counted from the last one", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, jitter: 0, random: () => 0.5 });
    const [target] = targetsNamed(1);
    scheduler.reconcile([target!]);
    await runFor(clock, 800);
    scheduler.reconcile([{ ...target!, check: { ...target!.check, interval: 3000 } }]);
    await runFor(clock, 6000);
    expect(fake.startsOf(target!.key).map((at) => at - start)).toEqual([500, 3500, 6500]);
    scheduler.stop();
  });

  test("a shorter interval resumes on the new grid without a burst of missed runs", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, jitter: 0, random: () => 0.5 });
    const [target] = targetsNamed(1, tcpCheck({ interval: 5000, timeout: 500 }));
    scheduler.reconcile([target!]);
    await runFor(clock, 5000);
    scheduler.reconcile([{ ...target!, check: { ...target!.check, interval: 1000 } }]);
    await runFor(clock, 2000);
    expect(fake.startsOf(target!.key).map((at) => at - start)).toEqual([2500, 5500, 6500]);
    scheduler.stop();
  });

  test("a target that has not run yet is spread again over its new interval", async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, jitter: 0, random: () => 0.5 });
    const [target] = targetsNamed(1, tcpCheck({ interval: 60_000, timeout: 500 }));
    scheduler.reconcile([target!]);
    await runFor(clock, 100);
    scheduler.reconcile([{ ...target!, check: { ...target!.check, interval: 1000 } }]);
    await runFor(clock, 1000);
    expect(fake.startsOf(target!.key).map((at) => at - start)).toEqual([600]);
    scheduler.stop();
  });
});

describe("results", () => {
  test("a kind without a probe is down, saying so", async () => {
    const clock = new ManualClock();
    const { scheduler, results } = schedulerWith(clock, { probes: {}, random: () => 0 });
    scheduler.reconcile(targetsNamed(1));
    await runFor(clock, 0);
    expect(results.map((r) => r.result)).toEqual([{ status: "down", detail: "no tcp probe available", durationMs: 0 }]);
    scheduler.stop();
  });

  test("a probe that throws or rejects is down, not a crash", async () => {
    const clock = new ManualClock();
    const throwing = () => {
      throw new Error("boom");
    };
    const rejecting = async () => {
      throw new Error("bang");
    };
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: throwing, icmp: rejecting }, random: () => 0 });
    scheduler.reconcile([targetAt("10.0.0.1"), targetAt("10.0.0.2", { ...tcpCheck(), type: "icmp" })]);
    await runFor(clock, 0);
    expect(results.map((r) => [r.result.status, r.result.detail])).toEqual([
      ["down", "probe failed: boom"],
      ["down", "probe failed: bang"],
    ]);
    scheduler.stop();
  });
});

describe("first round", () => {
  test("done once every target present at the start has a result", async () => {
    const clock = new ManualClock();
    const fake = instantProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: fake.probe }, random: seededRandom(5) });
    let resolved = false;
    void scheduler.firstRound.then(() => (resolved = true));
    const [a, b, c, later] = targetsNamed(4);
    scheduler.reconcile([a!, b!, c!]);
    expect(scheduler.firstRoundDone()).toBe(false);
    scheduler.reconcile([a!, b!, c!, { ...later!, check: { ...later!.check, interval: 3_600_000 } }]);
    await runFor(clock, 1000);
    expect(scheduler.firstRoundDone()).toBe(true);
    expect(resolved).toBe(true);
    expect(fake.startsOf(later!.key)).toHaveLength(0);
    scheduler.stop();
  });

  test("a target removed before its first result no longer holds the round up", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0 });
    const [a, b] = targetsNamed(2);
    scheduler.reconcile([a!, b!]);
    await runFor(clock, 0);
    held.calls[0]!.settle(resultOf("up"));
    await settlePromises();
    expect(scheduler.firstRoundDone()).toBe(false);
    scheduler.reconcile([a!]);
    expect(scheduler.firstRoundDone()).toBe(true);
    await scheduler.firstRound;
    scheduler.stop();
  });

  test("nothing to probe: done at the first reconcile, not before", async () => {
    const clock = new ManualClock();
    const { scheduler } = schedulerWith(clock, {});
    expect(scheduler.firstRoundDone()).toBe(false);
    scheduler.reconcile([]);
    expect(scheduler.firstRoundDone()).toBe(true);
    await scheduler.firstRound;
  });
});

describe("lifecycle", () => {
  test("stop cancels every timer, drops results in flight and ignores later reconciles", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler, results } = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0 });
    scheduler.reconcile(targetsNamed(3));
    await runFor(clock, 0);
    scheduler.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(held.calls.every((c) => c.signal.aborted)).toBe(true);
    for (const call of held.calls) call.settle(resultOf("up"));
    scheduler.reconcile(targetsNamed(3));
    await runFor(clock, 5000);
    expect(results).toHaveLength(0);
    expect(scheduler.stats()).toMatchObject({ targets: 0, running: 0, queued: 0 });
    await scheduler.firstRound;
  });

  test("bad options are refused at construction", () => {
    const clock = new ManualClock();
    expect(() => new ProbeScheduler({ clock, probes: {}, maxConcurrent: 0 })).toThrow("maxConcurrent: expected a whole number of at least 1, got 0");
    expect(() => new ProbeScheduler({ clock, probes: {}, jitter: 0.5 })).toThrow("jitter: expected a fraction");
  });
});

describe("run observers", () => {
  test("see each run start (with its lateness) and finish (with its target and result); unsubscribing stops them", async () => {
    const clock = new ManualClock();
    const held = heldProbe(clock);
    const { scheduler } = schedulerWith(clock, { probes: { tcp: held.probe }, random: () => 0, maxConcurrent: 1 });
    const seen: string[] = [];
    const unsubscribe = scheduler.observe({
      started: (target, lateMs) => seen.push(`start ${target.address} late ${lateMs}`),
      finished: (target, result) => seen.push(`end ${target.address} ${result.status}`),
    });
    scheduler.reconcile(targetsNamed(2, tcpCheck({ interval: 60_000 })));
    await runFor(clock, 0);
    await runFor(clock, 30);
    held.calls[0]!.settle(resultOf("down"));
    await runFor(clock, 0);
    // The second target waited its turn behind the concurrency limit: it started 30 ms late.
    expect(seen).toEqual(["start 10.0.0.0 late 0", "end 10.0.0.0 down", "start 10.0.0.1 late 30"]);
    unsubscribe();
    held.calls[1]!.settle(resultOf("up"));
    await runFor(clock, 0);
    expect(seen).toHaveLength(3);
    scheduler.stop();
  });
});
