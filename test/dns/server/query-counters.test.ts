// The answer path's own counters: which slot a response lands in, the latency buckets, and that the
// pipeline counts every response it sends (cache hits included) by zone, type, rcode and transport.

import { describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { parseConfig } from "../../../src/config/load.ts";
import { buildEngine } from "../../../src/dns/server/engine.ts";
import { DnsPipeline, type Transport } from "../../../src/dns/server/pipeline.ts";
import { LATENCY_BOUNDS_NS, MAX_QTYPE_SLOTS, NO_ZONE, QueryCounters, type QueryCount } from "../../../src/dns/server/query-counters.ts";
import { HealthBoard } from "../../../src/health/board.ts";
import { ManualClock } from "../../../src/lib/clock.ts";

/** Counts as "zone qtype rcode transport" → count, the way a test reads best. */
function table(counts: QueryCount[]): Record<string, number> {
  return Object.fromEntries(counts.map((c) => [`${c.zone ?? "-"} ${c.qtype} ${c.rcode} ${c.transport}`, c.count]));
}

describe("QueryCounters", () => {
  test("counts land by zone, type, rcode and transport; zero counters are not listed", () => {
    const c = new QueryCounters();
    const a = c.zoneSlot("a.test");
    const b = c.zoneSlot("b.test");
    expect(c.zoneSlot("a.test")).toBe(a);
    c.count(a, 1, 0, "udp", 1000);
    c.count(a, 1, 0, "udp", 1000);
    c.count(a, 28, 3, "tcp", 1000);
    c.count(b, 48, 0, "udp", 1000);
    c.count(NO_ZONE, 1, 5, "udp", 1000);
    c.count(NO_ZONE, -1, 1, "udp", 1000);
    c.count(NO_ZONE, 1, 16, "udp", 1000);
    expect(table(c.counts())).toEqual({
      "a.test 1 0 udp": 2,
      "a.test 28 3 tcp": 1,
      "b.test 48 0 udp": 1,
      "- 1 5 udp": 1,
      "- none 1 udp": 1,
      "- 1 16 udp": 1,
    });
  });

  test("past the cap, new query types share one 'other' counter; types seen before keep theirs", () => {
    const c = new QueryCounters();
    // Slots 0 and 1 are "other" and "none": the rest go to types in order of first sight.
    const distinct = MAX_QTYPE_SLOTS - 2;
    for (let t = 1000; t < 1000 + distinct + 50; t++) c.count(NO_ZONE, t, 0, "udp", 1);
    c.count(NO_ZONE, 1000, 0, "udp", 1);
    const counts = table(c.counts());
    expect(counts["- 1000 0 udp"]).toBe(2);
    expect(counts["- other 0 udp"]).toBe(50);
    expect(Object.keys(counts)).toHaveLength(distinct + 1);
  });

  test("latency: a value on a bound falls in that bucket, just above it in the next, past the last in +Inf", () => {
    const c = new QueryCounters();
    const last = LATENCY_BOUNDS_NS.length;
    for (const ns of [0, 5000, 5001, 10_000, 49_999_999, 50_000_000, 50_000_001, 1e12]) c.count(NO_ZONE, 1, 0, "udp", ns);
    const expected = new Array(last + 1).fill(0);
    expected[0] = 2; // 0, 5000
    expected[1] = 2; // 5001, 10 000
    expected[last - 1] = 2; // just below and at 50 ms
    expected[last] = 2; // beyond 50 ms
    expect([...c.latencyBuckets]).toEqual(expected);
    expect(c.latencyCount).toBe(8);
    expect(c.latencySumNs).toBe(0 + 5000 + 5001 + 10_000 + 49_999_999 + 50_000_000 + 50_000_001 + 1e12);
  });

  test("the buckets span 5 µs to 50 ms in increasing order", () => {
    expect(LATENCY_BOUNDS_NS[0]).toBe(5_000);
    expect(LATENCY_BOUNDS_NS.at(-1)).toBe(50_000_000);
    for (let i = 1; i < LATENCY_BOUNDS_NS.length; i++) expect(LATENCY_BOUNDS_NS[i]!).toBeGreaterThan(LATENCY_BOUNDS_NS[i - 1]!);
  });
});

const CONFIG = `
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [one.test, two.test]
  nameservers: [{ name: ns1.one.test, addresses: [127.0.0.1] }]
  records: |
    www.two.test. IN A 192.0.2.80
data_dir: /tmp/unused
services:
  - name: app
    zone: one.test
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`;

function pipelineFor(yaml = CONFIG, countQueries?: boolean) {
  const config = parseConfig(yaml);
  const board = new HealthBoard(new ManualClock());
  board.setServices(config.services);
  return { pipeline: new DnsPipeline(buildEngine(config, () => 1), board, { countQueries }), config };
}

function query(name: string, type: dnsPacket.RecordType, opts: { ednsVersion?: number; qclass?: dnsPacket.RecordClass } = {}): Uint8Array {
  const additionals = opts.ednsVersion === undefined ? [] : [{ type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0, options: [], ednsVersion: opts.ednsVersion } as never];
  return new Uint8Array(dnsPacket.encode({ type: "query", id: 9, flags: 0, questions: [{ name, type, class: opts.qclass ?? "IN" }], additionals }));
}

/** dns-packet cannot write an unknown type: set it in the question (the last 4 bytes are type and class). */
function withQtype(bytes: Uint8Array, qtype: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(bytes.length - 4, qtype);
  return bytes;
}

function send(pipeline: DnsPipeline, bytes: Uint8Array, transport: Transport = "udp"): void {
  if (!pipeline.handle(bytes, "127.0.0.1", transport)) throw new Error("no reply");
}

describe("the pipeline counts what it answers", () => {
  test("by zone, type, rcode and transport, cache hits included", () => {
    const { pipeline } = pipelineFor();
    for (let i = 0; i < 3; i++) send(pipeline, query("app.one.test", "A"));
    send(pipeline, query("APP.one.test", "AAAA"));
    send(pipeline, query("nope.one.test", "A"));
    send(pipeline, query("www.two.test", "A"), "tcp");
    send(pipeline, withQtype(query("two.test", "A"), 65280));
    send(pipeline, query("example.org", "A"));
    send(pipeline, query("one.test", "AXFR"));
    send(pipeline, query("one.test", "A", { qclass: "CH" }));
    send(pipeline, query("one.test", "SOA", { ednsVersion: 1 }));
    expect(pipeline.cache.hits).toBeGreaterThan(0);
    expect(table(pipeline.counters!.counts())).toEqual({
      "one.test 1 0 udp": 3,
      "one.test 28 0 udp": 1,
      "one.test 1 3 udp": 1,
      "two.test 1 0 tcp": 1,
      "two.test 65280 0 udp": 1,
      "- 1 5 udp": 2, // out of zone; class CH
      "- 252 5 udp": 1, // AXFR is not offered
      "- 6 16 udp": 1, // EDNS version 1: BADVERS
    });
    expect(pipeline.counters!.latencyCount).toBe(11);
  });

  test("a packet without a question is FORMERR with type 'none'; a dropped one is not counted", () => {
    const { pipeline } = pipelineFor();
    const noQuestion = new Uint8Array(12);
    noQuestion[1] = 1;
    send(pipeline, noQuestion);
    expect(pipeline.handle(new Uint8Array(5), "127.0.0.1", "udp")).toBeNull();
    expect(table(pipeline.counters!.counts())).toEqual({ "- none 1 udp": 1 });
    expect(pipeline.counters!.latencyCount).toBe(1);
  });

  test("counts go on across a reload; a zone that stays keeps its counter", () => {
    const { pipeline, config } = pipelineFor();
    send(pipeline, query("app.one.test", "A"));
    pipeline.setEngine(buildEngine(config, () => 2));
    send(pipeline, query("app.one.test", "A"));
    expect(table(pipeline.counters!.counts())).toEqual({ "one.test 1 0 udp": 2 });
  });

  test("countQueries: false keeps no counters", () => {
    const { pipeline } = pipelineFor(CONFIG, false);
    send(pipeline, query("app.one.test", "A"));
    expect(pipeline.counters).toBeUndefined();
  });
});
