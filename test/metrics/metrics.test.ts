// The registry in process: every series read from its real source (a DnsPipeline answering queries)
// or from small fakes for health and probes, the /metrics handler, and the listener on port 0.

import { describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { register as globalRegistry } from "prom-client";
import { parseConfig } from "../../src/config/load.ts";
import { buildEngine } from "../../src/dns/server/engine.ts";
import { DnsPipeline } from "../../src/dns/server/pipeline.ts";
import { LATENCY_BOUNDS_NS } from "../../src/dns/server/query-counters.ts";
import { HealthBoard } from "../../src/health/board.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { StartupError } from "../../src/lib/errors.ts";
import { histogramValues } from "../../src/metrics/fixed-histogram.ts";
import { PROCESS_METRICS } from "../../src/metrics/process.ts";
import { buildMetrics } from "../../src/metrics/registry.ts";
import { respond, startMetrics } from "../../src/metrics/server.ts";
import { parseSamples, value } from "../helpers/prometheus.ts";

const CONFIG = parseConfig(`
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [m.test]
  nameservers: [{ name: ns1.m.test, addresses: [127.0.0.1] }]
data_dir: /tmp/unused
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`);

type Change = { service: string; to: string };
type Observer = Parameters<Parameters<typeof buildMetrics>[0]["probes"]["observeRuns"]>[0];

function fixture(options: { process?: boolean } = {}) {
  const clock = new ManualClock(1_000_000);
  const board = new HealthBoard(clock);
  board.setServices(CONFIG.services);
  const pipeline = new DnsPipeline(buildEngine(CONFIG, () => 1), board, { clock });
  const backends: { service: string; state: string; heldOutUntil?: number }[] = [
    { service: "app.m.test", state: "up" },
    { service: "app.m.test", state: "down", heldOutUntil: 1_060_000 },
    { service: "db.m.test", state: "down" },
  ];
  const overrides = [{}, {}];
  const changeListeners = new Set<(c: Change) => void>();
  const observers = new Set<Observer>();
  const reloads = { succeeded: 0, failed: 0 };
  const metrics = buildMetrics({
    dns: pipeline,
    health: {
      view: () => backends,
      overrides: () => overrides,
      onStateChange: (l) => (changeListeners.add(l), () => changeListeners.delete(l)),
    },
    probes: { observeRuns: (o) => (observers.add(o), () => observers.delete(o)) },
    node: { version: "1.2.3", commit: "abc123", reloads },
    process: options.process,
  });
  const ask = (name: string, type: dnsPacket.RecordType = "A") => {
    const bytes = new Uint8Array(dnsPacket.encode({ type: "query", id: 1, flags: 0, questions: [{ name, type, class: "IN" }] }));
    if (!pipeline.handle(bytes, "127.0.0.1", "udp")) throw new Error("no reply");
  };
  const samples = async () => parseSamples(await metrics.registry.metrics());
  return { pipeline, metrics, backends, overrides, reloads, changeListeners, observers, ask, samples };
}

describe("DNS series", () => {
  test("queries by zone, type and rcode, the answer histogram and the cache, read at scrape time", async () => {
    const f = fixture({ process: false });
    f.ask("app.m.test");
    f.ask("app.m.test");
    f.ask("app.m.test", "AAAA");
    f.ask("nope.m.test");
    f.ask("example.org", "DNSKEY");
    const s = await f.samples();
    const q = (zone: string, qtype: string, rcode: string) => value(s, "vigil_dns_queries_total", { zone, qtype, rcode, transport: "udp" });
    expect(q("m.test", "A", "NOERROR")).toBe(2);
    expect(q("m.test", "AAAA", "NOERROR")).toBe(1);
    expect(q("m.test", "A", "NXDOMAIN")).toBe(1);
    expect(q("none", "DNSKEY", "REFUSED")).toBe(1);
    expect(value(s, "vigil_dns_answer_seconds_count")).toBe(5);
    expect(value(s, "vigil_dns_answer_seconds_bucket", { le: "+Inf" })).toBe(5);
    expect(value(s, "vigil_dns_answer_seconds_sum")).toBeGreaterThan(0);
    expect(value(s, "vigil_dns_response_cache_total", { result: "hit" })).toBe(f.pipeline.cache.hits);
    expect(value(s, "vigil_dns_response_cache_total", { result: "miss" })).toBe(f.pipeline.cache.misses);
    expect(f.pipeline.cache.hits).toBe(1);
    expect(s.has('vigil_dnssec_signature_cache_total{result="hit"}')).toBe(true);
    expect(s.has('vigil_dnssec_signature_cache_total{result="miss"}')).toBe(true);

    // Counters only grow between scrapes, and collecting twice does not double anything.
    f.ask("app.m.test");
    const again = await f.samples();
    expect(value(again, "vigil_dns_queries_total", { zone: "m.test", qtype: "A", rcode: "NOERROR", transport: "udp" })).toBe(3);
    expect(value(again, "vigil_dns_answer_seconds_count")).toBe(6);
  });

  test("the histogram is cumulative, in seconds, with +Inf equal to the count", () => {
    const values = histogramValues("h", { bounds: [0.001, 0.01], counts: [2, 3, 4], sum: 1.5, count: 9 });
    expect(values).toEqual([
      { metricName: "h_bucket", labels: { le: 0.001 }, value: 2 },
      { metricName: "h_bucket", labels: { le: 0.01 }, value: 5 },
      { metricName: "h_bucket", labels: { le: "+Inf" }, value: 9 },
      { metricName: "h_sum", labels: {}, value: 1.5 },
      { metricName: "h_count", labels: {}, value: 9 },
    ]);
  });

  test("the answer histogram's buckets are the counters' bounds, 5 µs .. 50 ms", async () => {
    const text = await fixture({ process: false }).metrics.registry.metrics();
    const bounds = [...text.matchAll(/^vigil_dns_answer_seconds_bucket\{le="([^"]+)"\}/gm)].map((m) => m[1]);
    expect(bounds).toEqual([...LATENCY_BOUNDS_NS.map((ns) => String(ns / 1e9)), "+Inf"]);
    expect(bounds[0]).toBe("0.000005");
    expect(bounds.at(-2)).toBe("0.05");
  });
});

describe("health, probe and node series", () => {
  test("backends, healthy and held-out backends per service, active overrides, state changes", async () => {
    const f = fixture({ process: false });
    let s = await f.samples();
    expect(value(s, "vigil_backends", { service: "app.m.test" })).toBe(2);
    expect(value(s, "vigil_backends", { service: "db.m.test" })).toBe(1);
    expect(value(s, "vigil_backends_healthy", { service: "app.m.test" })).toBe(1);
    expect(s.get('vigil_backends_healthy{service="db.m.test"}')).toBe(0);
    expect(value(s, "vigil_backends_held_out", { service: "app.m.test" })).toBe(1);
    expect(s.get('vigil_backends_held_out{service="db.m.test"}')).toBe(0);
    expect(value(s, "vigil_overrides_active")).toBe(2);

    for (const l of f.changeListeners) l({ service: "app.m.test", to: "down" });
    f.backends[0]!.state = "down";
    s = await f.samples();
    expect(value(s, "vigil_backend_state_changes_total", { service: "app.m.test", to: "down" })).toBe(1);
    expect(value(s, "vigil_backends_healthy", { service: "app.m.test" })).toBe(0);

    f.metrics.close();
    expect(f.changeListeners.size).toBe(0);
    expect(f.observers.size).toBe(0);
  });

  test("probe runs: results by type and status, duration and lateness histograms", async () => {
    const f = fixture({ process: false });
    const http = { check: { type: "http" }, address: "192.0.2.1", port: 80 };
    for (const o of f.observers) {
      o.started(http, 0);
      o.finished(http, { status: "up", durationMs: 3 });
      o.started(http, 20);
      o.finished(http, { status: "down", durationMs: 2000 });
    }
    const s = await f.samples();
    expect(value(s, "vigil_probe_results_total", { type: "http", status: "up" })).toBe(1);
    expect(value(s, "vigil_probe_results_total", { type: "http", status: "down" })).toBe(1);
    expect(value(s, "vigil_probe_duration_seconds_count", { type: "http" })).toBe(2);
    expect(value(s, "vigil_probe_duration_seconds_sum", { type: "http" })).toBeCloseTo(2.003);
    expect(value(s, "vigil_probe_duration_seconds_bucket", { type: "http", le: "0.005" })).toBe(1);
    expect(value(s, "vigil_probe_lateness_seconds_count")).toBe(2);
    expect(value(s, "vigil_probe_lateness_seconds_bucket", { le: "0.001" })).toBe(1);
  });

  test("agents at zero until agent mode exists; build info; reloads as the node counts them", async () => {
    const f = fixture({ process: false });
    f.reloads.succeeded = 3;
    f.reloads.failed = 1;
    const s = await f.samples();
    expect(s.get("vigil_agents_registered")).toBe(0);
    expect(s.get("vigil_stale_agents")).toBe(0);
    for (const result of ["up", "warning", "down"]) expect(s.get(`vigil_validation_checks_total{result="${result}"}`)).toBe(0);
    expect(value(s, "vigil_build_info", { version: "1.2.3", commit: "abc123" })).toBe(1);
    expect(value(s, "vigil_config_reloads_total", { result: "success" })).toBe(3);
    expect(value(s, "vigil_config_reloads_total", { result: "failure" })).toBe(1);
  });

  test("process metrics: the ones that work under Bun, nothing else, every name prefixed", async () => {
    const f = fixture();
    const names = f.metrics.registry.getMetricsAsArray().map((m) => m.name);
    for (const name of PROCESS_METRICS) expect(names).toContain(name);
    for (const name of names) expect(name).toStartWith("vigil_");
    expect(names.filter((n) => /heap|active_|gc_|version_info/.test(n))).toEqual([]);
    const s = await f.samples();
    expect(value(s, "vigil_process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(value(s, "vigil_process_open_fds")).toBeGreaterThan(0);
    expect(value(s, "vigil_process_start_time_seconds")).toBeCloseTo(Date.now() / 1000 - process.uptime(), -1);
  });

  test("each node has its own registry; prom-client's global one stays empty of ours", async () => {
    const a = fixture({ process: false });
    const b = fixture({ process: false });
    a.ask("app.m.test");
    expect(value(await a.samples(), "vigil_dns_answer_seconds_count")).toBe(1);
    expect(value(await b.samples(), "vigil_dns_answer_seconds_count")).toBe(0);
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith("vigil_"))).toEqual([]);
  });
});

describe("the /metrics endpoint", () => {
  test("GET /metrics in Prometheus text format; 404 elsewhere; 405 for other methods", async () => {
    const { registry } = fixture({ process: false }).metrics;
    const ok = await respond(registry, new Request("http://x/metrics"));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await ok.text()).toContain("# TYPE vigil_dns_queries_total counter");
    expect((await respond(registry, new Request("http://x/"))).status).toBe(404);
    expect((await respond(registry, new Request("http://x/metrics/extra"))).status).toBe(404);
    const post = await respond(registry, new Request("http://x/metrics", { method: "POST" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  test("listens on port 0 over loopback; a taken port is a clear startup error; stop() closes", async () => {
    const { registry } = fixture({ process: false }).metrics;
    const server = startMetrics(registry, { host: "127.0.0.1", port: 0 });
    try {
      expect(server.port).toBeGreaterThan(0);
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("vigil_build_info");
      let error: unknown;
      try {
        startMetrics(registry, { host: "127.0.0.1", port: server.port }).stop();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StartupError);
      expect(String(error)).toContain(`cannot serve metrics on 127.0.0.1:${server.port}`);
    } finally {
      server.stop();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });
});
