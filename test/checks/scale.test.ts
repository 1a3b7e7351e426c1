import { expect, test } from "bun:test";
import { ProbeScheduler } from "../../src/checks/scheduler.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { instantProbe, runFor, seededRandom, targetAt, tcpCheck } from "./fakes.ts";

test("2,000 targets at 1 s for 60 s of manual time: each probed 60 ±1 times, on time", async () => {
  const clock = new ManualClock();
  const fake = instantProbe(clock);
  const scheduler = new ProbeScheduler({ clock, probes: { tcp: fake.probe }, random: seededRandom(2000) });
  const check = tcpCheck({ interval: 1000, timeout: 500 });
  scheduler.reconcile(Array.from({ length: 2000 }, (_, i) => targetAt(`10.1.${i >> 8}.${i & 255}`, check)));
  await runFor(clock, 60_000);

  const counts = [...fake.startsByKey.values()].map((starts) => starts.length);
  expect(counts).toHaveLength(2000);
  expect(Math.min(...counts)).toBeGreaterThanOrEqual(59);
  expect(Math.max(...counts)).toBeLessThanOrEqual(61);
  const stats = scheduler.stats();
  console.log(`scale: 2000 targets × 60 s, lateness p50 ${stats.lateness.p50} ms, p99 ${stats.lateness.p99} ms, skipped ${stats.skippedOverlaps}`);
  expect(stats).toMatchObject({ targets: 2000, skippedOverlaps: 0, lateness: { p50: 0, p99: 0 } });
  expect(scheduler.firstRoundDone()).toBe(true);
  scheduler.stop();
});
