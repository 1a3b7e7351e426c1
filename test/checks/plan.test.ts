import { describe, expect, test } from "bun:test";
import type { BackendConfig, HealthCheckConfig, ServiceConfig } from "../../src/config/types.ts";
import { targetsOf, watchesByTarget, watchesOf } from "../../src/checks/plan.ts";
import { ProbeScheduler } from "../../src/checks/scheduler.ts";
import { targetKeyOf } from "../../src/checks/target.ts";
import { ThresholdTracker } from "../../src/checks/thresholds.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { instantProbe, runFor, tcpCheck } from "./fakes.ts";

const http = (overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig =>
  ({
    type: "http",
    interval: 5000,
    timeout: 2000,
    failure_threshold: 3,
    success_threshold: 2,
    method: "GET",
    path: "/health",
    expect_status: [{ from: 200, to: 399 }],
    tls_verify: true,
    ...overrides,
  }) as HealthCheckConfig;

function backend(address: string, extra: Partial<BackendConfig> = {}): BackendConfig {
  return { address, family: address.includes(":") ? 6 : 4, port: 80, weight: 1, priority: 0, ...extra };
}

function service(name: string, backends: BackendConfig[], health_check?: HealthCheckConfig): ServiceConfig {
  return {
    name,
    zone: "example.com",
    fqdn: `${name}.example.com`,
    policy: "roundrobin",
    ttl: 30,
    max_answers: 8,
    when_all_down: { mode: "fail_open" },
    flap_damping: { max_changes: 0, window: 0, hold_down: 0 },
    health_check,
    backends,
  };
}

describe("targetKeyOf", () => {
  test("timing and thresholds are not part of the identity", () => {
    const key = targetKeyOf(http(), "10.0.0.1", 80);
    expect(targetKeyOf(http({ interval: 1000, timeout: 500, failure_threshold: 1, success_threshold: 5 }), "10.0.0.1", 80)).toBe(key);
  });

  test("kind, address, port and the kind's own settings are", () => {
    const key = targetKeyOf(http(), "10.0.0.1", 80);
    const differing = [
      targetKeyOf(http({ type: "https" }), "10.0.0.1", 80),
      targetKeyOf(http(), "10.0.0.2", 80),
      targetKeyOf(http(), "10.0.0.1", 8080),
      targetKeyOf(http({ path: "/ready" }), "10.0.0.1", 80),
      targetKeyOf(http({ host: "app.example.com" }), "10.0.0.1", 80),
      targetKeyOf(http({ expect_status: [{ from: 200, to: 200 }] }), "10.0.0.1", 80),
      targetKeyOf(http({ tls_verify: false }), "10.0.0.1", 80),
      targetKeyOf(tcpCheck({ send: "PING" }), "10.0.0.1", 80),
      targetKeyOf(tcpCheck({ send: "PING", expect: "PONG" }), "10.0.0.1", 80),
    ];
    expect(new Set([key, ...differing]).size).toBe(differing.length + 1);
  });

  test("the order the settings were written in does not matter", () => {
    const reordered = { path: "/health", type: "http", method: "GET", tls_verify: true, expect_status: [{ from: 200, to: 399 }] };
    const check = { ...reordered, interval: 1, timeout: 1, failure_threshold: 1, success_threshold: 1 } as HealthCheckConfig;
    expect(targetKeyOf(check, "::1", 80)).toBe(targetKeyOf(http(), "::1", 80));
    expect(targetKeyOf(check, "::1", 80)).toStartWith("http [::1]:80 ");
  });
});

describe("watchesOf", () => {
  test("the backend's check overrides the service's; check_address/check_port redirect the probe only", () => {
    const own = tcpCheck();
    const services = [
      service("app", [backend("10.0.0.1"), backend("10.0.0.2", { health_check: own, check_address: "192.168.0.2", check_port: 9000 })], http()),
    ];
    const [first, second] = watchesOf(services);
    expect(first).toMatchObject({ service: "app.example.com", address: "10.0.0.1", port: 80, check: http() });
    expect(first!.target).toMatchObject({ address: "10.0.0.1", port: 80, key: targetKeyOf(http(), "10.0.0.1", 80) });
    expect(second).toMatchObject({ address: "10.0.0.2", port: 80, check: own });
    expect(second!.target).toMatchObject({ address: "192.168.0.2", port: 9000, key: targetKeyOf(own, "192.168.0.2", 9000) });
  });

  test("a backend with no health check anywhere is not watched", () => {
    const services = [
      service("plain", [backend("10.0.0.1")]),
      service("mixed", [backend("10.0.0.2"), backend("10.0.0.3", { health_check: tcpCheck() })]),
    ];
    expect(watchesOf(services).map((w) => w.address)).toEqual(["10.0.0.3"]);
  });
});

describe("targetsOf", () => {
  test("watches sharing a target get one, with the shortest interval and timeout among them", () => {
    const services = [
      service("a", [backend("10.0.0.1", { check_address: "10.9.9.9" })], http({ interval: 5000, timeout: 1000 })),
      service("b", [backend("10.0.0.2", { check_address: "10.9.9.9" })], http({ interval: 2000, timeout: 1500 })),
      service("c", [backend("10.0.0.3")], http()),
    ];
    const targets = targetsOf(watchesOf(services));
    expect(targets).toHaveLength(2);
    expect(targets[0]).toMatchObject({ address: "10.9.9.9", check: { interval: 2000, timeout: 1000 } });
    expect(targets[1]).toMatchObject({ address: "10.0.0.3", check: { interval: 5000, timeout: 2000 } });
  });

  test("two backends sharing a target: one probe run per interval, and both watches get every result", async () => {
    const shared = { check_address: "10.9.9.9", check_port: 8080 };
    const services = [service("a", [backend("10.0.0.1", shared)], http()), service("b", [backend("10.0.0.2", shared)], http())];
    const watches = watchesOf(services);
    const clock = new ManualClock();
    const fake = instantProbe(clock);
    const scheduler = new ProbeScheduler({ clock, probes: { http: fake.probe }, random: () => 0.5 });
    const trackers = new Map(watches.map((w) => [w, new ThresholdTracker(w.check, "unknown")]));
    const observed = new Map(watches.map((w) => [w, 0]));
    const sharing = watchesByTarget(watches);
    scheduler.onResult((key, result) => {
      for (const watch of sharing.get(key) ?? []) {
        trackers.get(watch)!.observe(result);
        observed.set(watch, observed.get(watch)! + 1);
      }
    });
    scheduler.reconcile(targetsOf(watches));
    await runFor(clock, 10 * 5000); // first run half an interval in, then one per interval
    expect(sharing.size).toBe(1);
    expect([...fake.startsByKey.values()].map((starts) => starts.length)).toEqual([10]);
    expect([...observed.values()]).toEqual([10, 10]);
    expect([...trackers.values()].map((t) => t.verdict)).toEqual(["up", "up"]);
    scheduler.stop();
  });
});
