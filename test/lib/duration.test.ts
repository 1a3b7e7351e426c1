import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/lib/duration.ts";

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["5s", 5_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["1.5s", 1_500],
    ["0s", 0],
    [" 10s ", 10_000],
  ])("%p is %p ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test("a bare number is refused with a hint to add a unit", () => {
    expect(() => parseDuration("5")).toThrow('expected a duration with a unit (ms, s, m, h or d) such as "5s", got "5"');
  });

  test.each(["", "s", "5x", "-5s", "5 s", "1h30", "ms5"])("%p is refused", (text) => {
    expect(() => parseDuration(text)).toThrow("expected a duration");
  });
});

describe("formatDuration", () => {
  test.each([
    [0, "0s"],
    [500, "500ms"],
    [1_500, "1s500ms"],
    [5_400_000, "1h30m"],
    [172_800_000, "2d"],
  ])("%p ms is %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test("round-trips through parseDuration", () => {
    for (const ms of [1, 999, 61_001, 90_061_001, 7 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  test("refuses negative and fractional values", () => {
    expect(() => formatDuration(-1)).toThrow();
    expect(() => formatDuration(1.5)).toThrow();
  });
});
