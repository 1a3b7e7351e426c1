import { describe, expect, test } from "bun:test";
import { ThresholdTracker } from "../../src/checks/thresholds.ts";
import { resultOf } from "./fakes.ts";

const thresholds = { failure_threshold: 3, success_threshold: 2 };
const up = resultOf("up", "HTTP 200");
const down = resultOf("down", "connect refused");
const warning = resultOf("warning", "script exited 1");

describe("ThresholdTracker", () => {
  test("from unknown the first result decides at once", () => {
    expect(new ThresholdTracker(thresholds, "unknown").observe(down)).toEqual({ verdict: "down", changed: true, detail: "connect refused" });
    expect(new ThresholdTracker(thresholds, "unknown").observe(up)).toEqual({ verdict: "up", changed: true, detail: "HTTP 200" });
  });

  test("up goes down only after failure_threshold downs in a row", () => {
    const tracker = new ThresholdTracker(thresholds, "up");
    expect(tracker.observe(down)).toEqual({ verdict: "up", changed: false, detail: "connect refused (1 of 3 failures before down)" });
    expect(tracker.observe(down).verdict).toBe("up");
    expect(tracker.consecutiveFailures).toBe(2);
    expect(tracker.observe(down)).toEqual({ verdict: "down", changed: true, detail: "connect refused" });
    expect(tracker.observe(down).changed).toBe(false);
  });

  test("an up result in between starts the count again", () => {
    const tracker = new ThresholdTracker(thresholds, "up");
    tracker.observe(down);
    tracker.observe(down);
    tracker.observe(up);
    expect(tracker.consecutiveFailures).toBe(0);
    expect(tracker.consecutiveSuccesses).toBe(1);
    tracker.observe(down);
    expect(tracker.observe(down).verdict).toBe("up");
  });

  test("down recovers after success_threshold ups in a row", () => {
    const tracker = new ThresholdTracker(thresholds, "down");
    expect(tracker.observe(up)).toEqual({ verdict: "down", changed: false, detail: "HTTP 200 (1 of 2 successes before up)" });
    expect(tracker.observe(up)).toEqual({ verdict: "up", changed: true, detail: "HTTP 200" });
    expect(tracker.verdict).toBe("up");
  });

  test("a warning counts as up", () => {
    const recovering = new ThresholdTracker(thresholds, "down");
    recovering.observe(warning);
    expect(recovering.observe(warning)).toMatchObject({ verdict: "up", changed: true });
    const steady = new ThresholdTracker(thresholds, "up");
    steady.observe(down);
    steady.observe(down);
    expect(steady.observe(warning)).toMatchObject({ verdict: "up", changed: false, detail: "script exited 1" });
    expect(steady.consecutiveFailures).toBe(0);
  });
});
