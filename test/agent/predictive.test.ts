import { describe, expect, test } from "bun:test";
import type { AgentBackendConfig, PredictiveConfig } from "../../src/config/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { cpuPercentBetween, parseCpuTimes, parseMemoryPercent, type HostReadings } from "../../src/agent/host-load.ts";
import { ErrorRates } from "../../src/agent/error-rate.ts";
import { assess, PredictiveSignals } from "../../src/agent/predictive.ts";

const limits: PredictiveConfig = { enabled: true, cpu_threshold: 85, memory_threshold: 90, error_rate_threshold: 5, check_interval: 10_000 };

describe("host readings from /proc", () => {
  test("CPU: the busy share of the time between two /proc/stat readings, iowait counted idle", () => {
    const before = parseCpuTimes("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\nintr 5\n")!;
    const after = parseCpuTimes("cpu  400 0 200 900 100 0 0 0 50 0\n")!;
    expect(before).toEqual({ busy: 200, total: 1000 });
    // guest time is inside user already: not counted twice.
    expect(cpuPercentBetween(before, after)).toBeCloseTo(66.67, 1);
    expect(cpuPercentBetween(after, after)).toBeUndefined();
    expect(parseCpuTimes("intr 5\n")).toBeUndefined();
  });

  test("memory: what MemAvailable leaves of MemTotal", () => {
    expect(parseMemoryPercent("MemTotal:       1000 kB\nMemFree:          50 kB\nMemAvailable:     250 kB\n")).toBe(75);
    expect(parseMemoryPercent("MemTotal: 1000 kB\n")).toBeUndefined();
  });
});

describe("assess", () => {
  const cases: [string, Parameters<typeof assess>[1], string | undefined][] = [
    ["all under", { cpuPercent: 85, memoryPercent: 90, errorPercent: 5 }, undefined],
    ["cpu over", { cpuPercent: 92.6, memoryPercent: 10 }, "cpu 93% > 85%"],
    ["memory and errors over", { memoryPercent: 95, errorPercent: 25 }, "memory 95% > 90%, errors 25% > 5%"],
    ["no readings", {}, undefined],
  ];
  for (const [name, readings, reason] of cases) test(name, () => expect(assess(limits, readings)).toBe(reason));
});

test("the error rate covers the last minute of runs", () => {
  const rates = new ErrorRates();
  expect(rates.percent("10.0.0.1", 80, 0)).toBeUndefined();
  rates.record("10.0.0.1", 80, true, 0);
  for (let t = 10_000; t <= 50_000; t += 10_000) rates.record("10.0.0.1", 80, false, t);
  expect(rates.percent("10.0.0.1", 80, 50_000)).toBeCloseTo(100 / 6, 5);
  // The failure at 0 has left the window.
  expect(rates.percent("10.0.0.1", 80, 60_000)).toBe(0);
  rates.keepOnly(new Set());
  expect(rates.percent("10.0.0.1", 80, 60_000)).toBeUndefined();
});

describe("PredictiveSignals", () => {
  const backend = (port: number, predictive?: Partial<PredictiveConfig>): AgentBackendConfig => ({
    service: "myapp",
    address: "10.0.0.1",
    port,
    weight: 100,
    ...(predictive ? { predictive: { ...limits, ...predictive } } : {}),
  });

  /** A sampler fed by the test: each sample returns what `host` holds then. */
  function setup(backends: AgentBackendConfig[]) {
    const clock = new ManualClock();
    const host: { now: HostReadings } = { now: {} };
    let samplers = 0;
    const signals = new PredictiveSignals(clock, () => {
      samplers++;
      return { sample: () => host.now };
    });
    let changes = 0;
    signals.onChange(() => changes++);
    signals.configure(backends);
    return { clock, host, signals, changes: () => changes, samplers: () => samplers };
  }

  test("a backend bleeds while a host reading is over its threshold, judged every check_interval", () => {
    const s = setup([backend(8080, {}), backend(8081)]);
    s.host.now = { cpuPercent: 50, memoryPercent: 40 };
    s.clock.advance(10_000);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBeUndefined();

    s.host.now = { cpuPercent: 97, memoryPercent: 40 };
    s.clock.advance(9_999);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBeUndefined();
    s.clock.advance(1);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBe("cpu 97% > 85%");
    expect(s.changes()).toBe(1);
    // Without predictive settings a backend is never judged.
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8081)).toBeUndefined();
    expect(s.signals.watched()).toEqual([{ service: "myapp", address: "10.0.0.1", port: 8080, config: limits, bleeding: true }]);

    // A new reason for a backend already bleeding is not news; stopping is.
    s.host.now = { cpuPercent: 99, memoryPercent: 95 };
    s.clock.advance(10_000);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBe("cpu 99% > 85%, memory 95% > 90%");
    expect(s.changes()).toBe(1);
    s.host.now = { cpuPercent: 10, memoryPercent: 10 };
    s.clock.advance(10_000);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBeUndefined();
    expect(s.changes()).toBe(2);
  });

  test("failed probe runs over error_rate_threshold make it bleed", () => {
    const s = setup([backend(8080, { error_rate_threshold: 20 })]);
    for (let i = 0; i < 4; i++) s.signals.recordProbe("10.0.0.1", 8080, i === 0);
    s.clock.advance(10_000);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBe("errors 25% > 20%");
  });

  test("each check_interval has its own sampler; a reload that turns predictive off stops the bleeding", () => {
    const s = setup([backend(8080, {}), backend(8081, { check_interval: 5_000 })]);
    expect(s.samplers()).toBe(2);
    s.host.now = { memoryPercent: 99 };
    s.clock.advance(5_000);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8081)).toBe("memory 99% > 90%");
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8080)).toBeUndefined();
    s.signals.configure([backend(8080, {}), backend(8081)]);
    expect(s.signals.bleeding("myapp", "10.0.0.1", 8081)).toBeUndefined();
    expect(s.changes()).toBe(2);
    s.signals.stop();
    expect(s.clock.pendingTimers()).toBe(0);
  });
});
