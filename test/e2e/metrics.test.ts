// /metrics on the compiled binary: real dig queries counted exactly by zone, type and rcode; probe
// results; healthy backends dropping when a backend process dies; promtool accepting the text; and
// the endpoint moving on SIGHUP without its counters starting over.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dig } from "../helpers/dig.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { parseSamples, promtoolCheck, scrape, value, type Samples } from "../helpers/prometheus.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

const SERVICE = "web.mx.test";
const backends = [new BackendProcess("tcp", "127.0.0.21"), new BackendProcess("tcp", "127.0.0.22")];
let vigil: VigilProcess;
let dnsPort: number;
let metricsAddress: string;

function config(dir: string, metricsListen = "127.0.0.1:0"): string {
  return `
mode: standalone
identity: { node_id: e2e-metrics }
dns:
  listen_address: "127.0.0.1:0"
  zones: [mx.test]
  nameservers: [{ name: ns1.mx.test, addresses: [127.0.0.1] }]
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "${metricsListen}" }
logging: { level: info, format: json }
services:
  - name: web
    ttl: 1
    flap_damping: { max_changes: 0 }
    health_check: { type: tcp, interval: 300ms, timeout: 200ms, failure_threshold: 1, success_threshold: 1 }
    backends:
${backends.map((b) => `      - { address: ${b.address}, port: ${b.port} }`).join("\n")}
`;
}

const samples = async (address = metricsAddress): Promise<Samples> => {
  const r = await scrape(address);
  expect(r.status).toBe(200);
  return parseSamples(r.text);
};

/** Series of `name` whose value changed between two scrapes, with the change. */
function increments(before: Samples, after: Samples, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of after) {
    if (!key.startsWith(`${name}{`)) continue;
    const delta = v - (before.get(key) ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

beforeAll(async () => {
  for (const b of backends) await b.start();
  vigil = await VigilProcess.start((dir) => config(dir));
  dnsPort = await vigil.dnsPort();
  metricsAddress = String((await vigil.waitForLog((l) => l.msg === "vigil started")).metrics);
  await vigil.waitForLog((l) => l.msg === "ready: first probe round done");
}, 15_000);

afterAll(async () => {
  await vigil.stop();
  for (const b of backends) await b.kill();
});

describe("metrics on the compiled binary", () => {
  test("the started log line names the metrics address; only GET /metrics is served", async () => {
    expect(metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const r = await scrape(metricsAddress);
    expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect((await fetch(`http://${metricsAddress}/`)).status).toBe(404);
    expect((await fetch(`http://${metricsAddress}/metrics`, { method: "POST" })).status).toBe(405);
  });

  test("each answered query is counted once, by zone, type, rcode and transport", async () => {
    const before = await samples();
    const statuses = [
      (await dig("127.0.0.1", dnsPort, [SERVICE, "A"])).status,
      (await dig("127.0.0.1", dnsPort, [SERVICE, "A"])).status,
      (await dig("127.0.0.1", dnsPort, [SERVICE, "AAAA"])).status,
      (await dig("127.0.0.1", dnsPort, ["nope.mx.test", "A"])).status,
      (await dig("127.0.0.1", dnsPort, ["www.example.org", "A"])).status,
      (await dig("127.0.0.1", dnsPort, ["+tcp", "mx.test", "DNSKEY"])).status,
    ];
    expect(statuses).toEqual(["NOERROR", "NOERROR", "NOERROR", "NXDOMAIN", "REFUSED", "NOERROR"]);
    const after = await samples();
    const series = (zone: string, qtype: string, rcode: string, transport = "udp") =>
      `vigil_dns_queries_total{qtype="${qtype}",rcode="${rcode}",transport="${transport}",zone="${zone}"}`;
    expect(increments(before, after, "vigil_dns_queries_total")).toEqual({
      [series("mx.test", "A", "NOERROR")]: 2,
      [series("mx.test", "AAAA", "NOERROR")]: 1,
      [series("mx.test", "A", "NXDOMAIN")]: 1,
      [series("none", "A", "REFUSED")]: 1,
      [series("mx.test", "DNSKEY", "NOERROR", "tcp")]: 1,
    });
    expect(value(after, "vigil_dns_answer_seconds_count") - value(before, "vigil_dns_answer_seconds_count")).toBe(6);
    const lookups = (s: Samples) => value(s, "vigil_dns_response_cache_total", { result: "hit" }) + value(s, "vigil_dns_response_cache_total", { result: "miss" });
    // The REFUSED out-of-zone name is cached too: every query here looked in the cache once.
    expect(lookups(after) - lookups(before)).toBe(6);
  });

  test("probe results, backends and build info are there; promtool finds nothing to complain about", async () => {
    const s = await samples();
    expect(value(s, "vigil_probe_results_total", { type: "tcp", status: "up" })).toBeGreaterThanOrEqual(2);
    expect(value(s, "vigil_probe_duration_seconds_count", { type: "tcp" })).toBeGreaterThanOrEqual(2);
    expect(value(s, "vigil_probe_lateness_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(value(s, "vigil_backends", { service: SERVICE })).toBe(2);
    expect(value(s, "vigil_backends_healthy", { service: SERVICE })).toBe(2);
    expect([...s.keys()].some((k) => k.startsWith("vigil_build_info{"))).toBe(true);
    expect(value(s, "vigil_process_resident_memory_bytes")).toBeGreaterThan(0);

    const check = await promtoolCheck((await scrape(metricsAddress)).text);
    expect(check).toEqual({ code: 0, output: "" });
    // The judge can fail: a counter without _total and a metric without help are reported.
    const bad = await promtoolCheck("# HELP vigil_x_requests x\n# TYPE vigil_x_requests counter\nvigil_x_requests 1\nvigil_y 1\n");
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('should have "_total" suffix');
    expect(bad.output).toContain("no help text");
  });

  test("a killed backend drops vigil_backends_healthy and counts a change to down", async () => {
    const downBefore = value(await samples(), "vigil_backend_state_changes_total", { service: SERVICE, to: "down" });
    await backends[0]!.kill();
    const s = await waitFor(
      "vigil_backends_healthy to drop to 1",
      async () => {
        const now = await samples();
        return value(now, "vigil_backends_healthy", { service: SERVICE }) === 1 && now;
      },
      5000,
      50,
    );
    expect(value(s, "vigil_backends", { service: SERVICE })).toBe(2);
    expect(value(s, "vigil_backend_state_changes_total", { service: SERVICE, to: "down" })).toBe(downBefore + 1);
    expect(value(s, "vigil_probe_results_total", { type: "tcp", status: "down" })).toBeGreaterThanOrEqual(1);
  });

  test("SIGHUP with a new metrics address moves the endpoint; counters carry on", async () => {
    const before = await samples();
    vigil.writeConfig(config(vigil.dir, "127.0.0.2:0"));
    vigil.signal("SIGHUP");
    const moved = await vigil.waitForLog((l) => l.msg === "metrics endpoint moved");
    const address = String(moved.metrics);
    expect(address).toMatch(/^127\.0\.0\.2:\d+$/);
    const after = await samples(address);
    expect(value(after, "vigil_config_reloads_total", { result: "success" })).toBe(1);
    expect(value(after, "vigil_config_reloads_total", { result: "failure" })).toBe(0);
    expect(value(after, "vigil_dns_answer_seconds_count")).toBe(value(before, "vigil_dns_answer_seconds_count"));
    await expect(fetch(`http://${metricsAddress}/metrics`)).rejects.toThrow();
    metricsAddress = address;
  });
});
