// One probe run, cut off at the check's timeout on the scheduler's clock: whichever comes first, the
// probe's result or the timeout, is the run's only outcome.

import type { Clock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Probe, ProbeResult, ProbeTarget } from "./types.ts";

export type RunOutcome = (result: ProbeResult, at: number) => void;

/**
 * Starts `probe` on `target` and calls `done` exactly once, never synchronously: with the probe's
 * result, or with `down` at the timeout, when the probe's signal is aborted and a late result is
 * ignored. The returned function cancels the run: it aborts the probe and `done` is not called.
 */
export function startTimedRun(probe: Probe, target: ProbeTarget, clock: Clock, done: RunOutcome): () => void {
  const controller = new AbortController();
  const startedAt = clock.now();
  const timeout = target.check.timeout;
  let finished = false;
  const finish = (result: ProbeResult) => {
    if (finished) return;
    finished = true;
    timer.cancel();
    done(result, clock.now());
  };
  const timer = clock.setTimeout(() => {
    controller.abort();
    finish({ status: "down", detail: `timeout after ${timeout} ms`, durationMs: timeout });
  }, timeout);
  void settle(probe, target, controller.signal, () => clock.now() - startedAt).then(finish);
  return () => {
    finished = true;
    timer.cancel();
    controller.abort();
  };
}

/** Probes must not throw or reject; one that does gives a down result rather than an unhandled rejection. */
async function settle(probe: Probe, target: ProbeTarget, signal: AbortSignal, elapsed: () => number): Promise<ProbeResult> {
  try {
    return await probe(target, signal);
  } catch (err) {
    return { status: "down", detail: `probe failed: ${errorMessage(err)}`, durationMs: elapsed() };
  }
}
