// The balancer's series, read at scrape time from the servers' stats: per server and per backend,
// the connect histogram from each member's own buckets, and promtool's approval of the text.

import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { CONNECT_BUCKETS_S, type LbBackendStats, type LbServerStats } from "../../src/lb/types.ts";
import { registerLbMetrics } from "../../src/metrics/lb.ts";
import { buildMetrics, type MetricsSources } from "../../src/metrics/registry.ts";
import { parseSamples, promtoolCheck, value } from "../helpers/prometheus.ts";

/** Non-cumulative counts, one per bound and one more for +Inf, with three connects set where `at` says. */
function connects(at: Record<number, number>): LbBackendStats["connect"] {
  const counts = new Array<number>(CONNECT_BUCKETS_S.length + 1).fill(0);
  let count = 0;
  for (const [i, n] of Object.entries(at)) {
    counts[Number(i)] = n;
    count += n;
  }
  return { counts, sum: 0.0123, count };
}

function backend(address: string, port: number, over: Partial<LbBackendStats> = {}): LbBackendStats {
  return { address, port, weight: 1, healthy: true, active: 0, total: 0, errors: 0, bytesIn: 0, bytesOut: 0, connect: connects({}), ...over };
}

function server(name: string, over: Partial<LbServerStats> = {}): LbServerStats {
  return { name, protocol: "tcp", bind: "127.0.0.1:8080", state: "running", active: 0, total: 0, refused: 0, denied: 0, errors: 0, bytesIn: 0, bytesOut: 0, backends: [], ...over };
}

function registryOver(stats: () => LbServerStats[]) {
  const registry = new Registry();
  registerLbMetrics(registry, stats);
  return { registry, samples: async () => parseSamples(await registry.metrics()) };
}

const web = () =>
  server("web", {
    active: 3,
    total: 120,
    refused: 4,
    denied: 2,
    errors: 1,
    bytesIn: 5000,
    bytesOut: 900_000,
    backends: [
      backend("127.0.0.1", 8001, { active: 2, total: 80, errors: 1, bytesIn: 3000, bytesOut: 600_000, connect: connects({ 0: 70, 3: 9, 13: 1 }) }),
      backend("::1", 8002, { healthy: false, active: 1, total: 40, bytesIn: 2000, bytesOut: 300_000, connect: connects({ 1: 40 }) }),
    ],
  });

describe("vigil_lb_ series", () => {
  test("per server: active, totals, refused, denied, errors, bytes in and out", async () => {
    const s = await registryOver(() => [web(), server("dns", { protocol: "udp", active: 7, total: 9 })]).samples();
    expect(value(s, "vigil_lb_connections_active", { server: "web" })).toBe(3);
    expect(value(s, "vigil_lb_connections_total", { server: "web" })).toBe(120);
    expect(value(s, "vigil_lb_refused_total", { server: "web" })).toBe(4);
    expect(value(s, "vigil_lb_denied_total", { server: "web" })).toBe(2);
    expect(value(s, "vigil_lb_errors_total", { server: "web" })).toBe(1);
    expect(value(s, "vigil_lb_bytes_total", { server: "web", direction: "in" })).toBe(5000);
    expect(value(s, "vigil_lb_bytes_total", { server: "web", direction: "out" })).toBe(900_000);
    expect(value(s, "vigil_lb_connections_active", { server: "dns" })).toBe(7);
    // A server without backends still has its series, at 0, so a rate() over it never has a gap.
    expect(s.get('vigil_lb_refused_total{server="dns"}')).toBe(0);
  });

  test("per backend, named host:port with IPv6 in brackets: up, active, total, errors, bytes", async () => {
    const s = await registryOver(() => [web()]).samples();
    const a = { server: "web", backend: "127.0.0.1:8001" };
    const b = { server: "web", backend: "[::1]:8002" };
    expect(value(s, "vigil_lb_backend_up", a)).toBe(1);
    expect(s.get('vigil_lb_backend_up{backend="[::1]:8002",server="web"}')).toBe(0);
    expect(value(s, "vigil_lb_backend_connections_active", a)).toBe(2);
    expect(value(s, "vigil_lb_backend_connections_total", b)).toBe(40);
    expect(value(s, "vigil_lb_backend_errors_total", a)).toBe(1);
    expect(value(s, "vigil_lb_backend_bytes_total", { ...a, direction: "in" })).toBe(3000);
    expect(value(s, "vigil_lb_backend_bytes_total", { ...b, direction: "out" })).toBe(300_000);
  });

  test("the connect histogram: the members' buckets made cumulative, every bound of CONNECT_BUCKETS_S, +Inf = count", async () => {
    const { registry, samples } = registryOver(() => [web()]);
    const s = await samples();
    const a = { server: "web", backend: "127.0.0.1:8001" };
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "0.0005" })).toBe(70);
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "0.0025" })).toBe(70);
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "0.005" })).toBe(79);
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "5" })).toBe(79);
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "+Inf" })).toBe(80);
    expect(value(s, "vigil_lb_backend_connect_seconds_count", a)).toBe(80);
    expect(value(s, "vigil_lb_backend_connect_seconds_sum", a)).toBeCloseTo(0.0123);
    const text = await registry.metrics();
    const bounds = [...text.matchAll(/^vigil_lb_backend_connect_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\}/gm)].map((m) => m[1]);
    expect(bounds.slice(0, CONNECT_BUCKETS_S.length + 1)).toEqual([...CONNECT_BUCKETS_S.map(String), "+Inf"]);
  });

  test("each scrape reads the stats afresh; a removed server's series go away", async () => {
    let servers = [web()];
    const { samples } = registryOver(() => servers);
    expect(value(await samples(), "vigil_lb_connections_total", { server: "web" })).toBe(120);
    servers = [{ ...web(), total: 125 }];
    expect(value(await samples(), "vigil_lb_connections_total", { server: "web" })).toBe(125);
    servers = [];
    const s = await samples();
    expect([...s.keys()].filter((k) => k.includes('server="web"'))).toEqual([]);
  });

  test("a draining server beside its replacement: counts add up under one name, up follows the running one", async () => {
    const old = web();
    old.state = "draining";
    const replacement = server("web", { active: 1, total: 1, backends: [backend("127.0.0.1", 8001, { healthy: false, total: 1, connect: connects({ 0: 1 }) })] });
    const { registry, samples } = registryOver(() => [replacement, old]);
    const s = await samples();
    const a = { server: "web", backend: "127.0.0.1:8001" };
    expect(value(s, "vigil_lb_connections_active", { server: "web" })).toBe(4);
    expect(value(s, "vigil_lb_backend_connections_total", a)).toBe(81);
    expect(value(s, "vigil_lb_backend_connect_seconds_count", a)).toBe(81);
    expect(value(s, "vigil_lb_backend_connect_seconds_bucket", { ...a, le: "0.0005" })).toBe(71);
    expect(s.get('vigil_lb_backend_up{backend="127.0.0.1:8001",server="web"}')).toBe(0);
    // Prometheus refuses a scrape with one series twice; promtool is the judge of that too.
    const check = await promtoolCheck(await registry.metrics());
    expect(check).toEqual({ code: 0, output: "" });
  });

  test("promtool check metrics accepts the text", async () => {
    const { registry } = registryOver(() => [web(), server("dns", { protocol: "udp" })]);
    const check = await promtoolCheck(await registry.metrics());
    expect(check).toEqual({ code: 0, output: "" });
  });
});

describe("buildMetrics", () => {
  const idle: MetricsSources = {
    dns: { counters: undefined, cache: { hits: 0, misses: 0 }, signatures: { hits: 0, misses: 0 }, stats: { dropped: 0, errors: 0, truncated: 0 } },
    health: { view: () => [], overrides: () => [], onStateChange: () => () => {} },
    probes: { observeRuns: () => () => {} },
    node: { version: "1.2.3", commit: "abc123", reloads: { succeeded: 0, failed: 0 } },
    process: false,
  };
  const lbNames = (sources: MetricsSources) =>
    buildMetrics(sources).registry.getMetricsAsArray().map((m) => m.name).filter((name) => name.startsWith("vigil_lb_"));

  test("registers the balancer's series only when given its stats", () => {
    expect(lbNames(idle)).toEqual([]);
    expect(lbNames({ ...idle, lb: () => [web()] }).sort()).toEqual([
      "vigil_lb_backend_bytes_total",
      "vigil_lb_backend_connect_seconds",
      "vigil_lb_backend_connections_active",
      "vigil_lb_backend_connections_total",
      "vigil_lb_backend_errors_total",
      "vigil_lb_backend_up",
      "vigil_lb_bytes_total",
      "vigil_lb_connections_active",
      "vigil_lb_connections_total",
      "vigil_lb_denied_total",
      "vigil_lb_errors_total",
      "vigil_lb_refused_total",
    ]);
  });
});
