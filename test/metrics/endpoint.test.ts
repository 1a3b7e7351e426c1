// The node's metrics listener across reloads (src/app/metrics.ts): an unchanged section keeps its
// socket, a changed one moves it, a bind failure on reload turns /metrics off without failing the
// reload, and the counters behind it never start over.

import { afterEach, describe, expect, test } from "bun:test";
import type { MetricsConfig } from "../../src/config/types.ts";
import { MetricsEndpoint } from "../../src/app/metrics.ts";
import { createLogger } from "../../src/lib/log.ts";
import { StartupError } from "../../src/lib/errors.ts";
import type { MetricsSources } from "../../src/metrics/registry.ts";
import { parseSamples, scrape, value } from "../helpers/prometheus.ts";

const reloads = { succeeded: 0, failed: 0 };
const sources: MetricsSources = {
  dns: { counters: undefined, cache: { hits: 0, misses: 0 }, signatures: { hits: 0, misses: 0 }, stats: { dropped: 0, errors: 0, truncated: 0 } },
  health: { view: () => [], overrides: () => [], onStateChange: () => () => {} },
  probes: { observeRuns: () => () => {} },
  node: { version: "0.0.0", commit: "test", reloads },
  process: false,
};

const at = (host: string, port = 0, enabled = true): MetricsConfig => ({ enabled, address: { host, port } });
const open: MetricsEndpoint[] = [];

function endpoint(config: MetricsConfig) {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => lines.push(JSON.parse(line)) });
  const e = new MetricsEndpoint(sources, config, log);
  open.push(e);
  return { e, lines };
}

afterEach(() => {
  for (const e of open.splice(0)) e.stop();
});

describe("the metrics listener", () => {
  test("an unchanged section keeps the socket; a changed one moves it; counters carry on", async () => {
    const { e, lines } = endpoint(at("127.0.0.1"));
    const first = e.address()!;
    expect(first).toMatch(/^127\.0\.0\.1:\d+$/);
    e.reconfigure(at("127.0.0.1"));
    expect(e.address()).toBe(first);
    reloads.succeeded = 5;
    e.reconfigure(at("127.0.0.2"));
    const moved = e.address()!;
    expect(moved).toMatch(/^127\.0\.0\.2:\d+$/);
    expect(lines.at(-1)).toMatchObject({ msg: "metrics endpoint moved", metrics: moved });
    expect(value(parseSamples((await scrape(moved)).text), "vigil_config_reloads_total", { result: "success" })).toBe(5);
    await expect(fetch(`http://${first}/metrics`)).rejects.toThrow();
  });

  test("enabled: false serves nothing; turning it back on serves again", async () => {
    const { e } = endpoint(at("127.0.0.1", 0, false));
    expect(e.address()).toBeNull();
    e.reconfigure(at("127.0.0.1"));
    expect((await scrape(e.address()!)).status).toBe(200);
    e.reconfigure(at("127.0.0.1", 0, false));
    expect(e.address()).toBeNull();
  });

  test("a taken address fails start-up, but on reload only turns /metrics off, logged, until a later reload", async () => {
    const { e: holder } = endpoint(at("127.0.0.1"));
    const taken = Number(holder.address()!.split(":")[1]);
    expect(() => endpoint(at("127.0.0.1", taken))).toThrow(StartupError);

    const { e, lines } = endpoint(at("127.0.0.1"));
    e.reconfigure(at("127.0.0.1", taken));
    expect(e.address()).toBeNull();
    expect(lines.at(-1)).toMatchObject({ level: "error", msg: "cannot serve metrics at the reloaded address; /metrics is off until the next reload" });
    e.reconfigure(at("127.0.0.1"));
    expect((await scrape(e.address()!)).status).toBe(200);
  });
});
