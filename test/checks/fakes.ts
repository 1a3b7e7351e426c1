// Fake probes and a manual-time driver for the scheduler tests: probes settle when the test says so
// or at once, and time moves timer by timer with promises settled in between.

import type { HealthCheckConfig } from "../../src/config/types.ts";
import { targetKeyOf } from "../../src/checks/target.ts";
import type { Probe, ProbeResult, ProbeStatus, ProbeTarget } from "../../src/checks/types.ts";
import type { ManualClock } from "../../src/lib/clock.ts";

export function tcpCheck(overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return { type: "tcp", interval: 1000, timeout: 500, failure_threshold: 3, success_threshold: 2, ...overrides } as HealthCheckConfig;
}

export function targetAt(address: string, check: HealthCheckConfig = tcpCheck(), port = 80): ProbeTarget {
  return { key: targetKeyOf(check, address, port), check, address, port };
}

export function resultOf(status: ProbeStatus, detail: string = status): ProbeResult {
  return { status, detail, durationMs: 1 };
}

/** Lets pending promise callbacks run, as the event loop would between timers. */
export function settlePromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Moves manual time forward by ms, one timer at a time, letting probes settle after each. */
export async function runFor(clock: ManualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await settlePromises();
  for (let due = clock.nextTimerDue(); due !== undefined && due <= end; due = clock.nextTimerDue()) {
    clock.advance(due - clock.now());
    await settlePromises();
  }
  clock.advance(end - clock.now());
  await settlePromises();
}

/** A probe that answers at once and remembers when (manual time) each target was probed. */
export function instantProbe(clock: ManualClock, status: ProbeStatus = "up") {
  const startsByKey = new Map<string, number[]>();
  const probe: Probe = async (target) => {
    const starts = startsByKey.get(target.key) ?? [];
    starts.push(clock.now());
    startsByKey.set(target.key, starts);
    return resultOf(status);
  };
  return { probe, startsByKey, startsOf: (key: string) => startsByKey.get(key) ?? [] };
}

export interface HeldCall {
  target: ProbeTarget;
  signal: AbortSignal;
  startedAt: number;
  settle(result: ProbeResult): void;
}

/** A probe whose runs settle only when the test calls settle(); tracks how many run at once. */
export function heldProbe(clock: ManualClock) {
  const calls: HeldCall[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const probe: Probe = (target, signal) =>
    new Promise<ProbeResult>((resolve) => {
      inFlight++;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      let settled = false;
      calls.push({
        target,
        signal,
        startedAt: clock.now(),
        settle(result) {
          if (settled) return;
          settled = true;
          inFlight--;
          resolve(result);
        },
      });
    });
  return { probe, calls, mostAtOnce: () => mostAtOnce };
}

/** Deterministic uniform numbers in [0, 1) (a 32-bit xorshift), so spreads are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Returns the given numbers in turn, over and over. */
export function cycling(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
