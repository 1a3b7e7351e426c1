// Micro-benchmark for the whole answer path in process: ns per DnsPipeline.handle() call, from query
// bytes to response bytes, no sockets. Mostly response-cache hits, as a loaded server sees them.
// Run: bun scripts/bench-pipeline.ts
// Each mix runs on two pipelines, with the per-query counters and latency histogram (as served) and
// without them (countQueries: false), in alternating rounds; it prints the median of each and the
// difference: what counting costs a query. Not a test; numbers depend on the machine.

import * as packet from "dns-packet";
import { parseConfig } from "../src/config/load.ts";
import { buildEngine } from "../src/dns/server/engine.ts";
import { DnsPipeline } from "../src/dns/server/pipeline.ts";
import { HealthBoard } from "../src/health/board.ts";
import { ManualClock } from "../src/lib/clock.ts";

const config = parseConfig(`
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [bench.test]
  nameservers: [{ name: ns1.bench.test, addresses: [127.0.0.1] }]
  records: |
    mail IN A 192.0.2.25
    mail IN AAAA 2001:db8::25
    host1 IN A 192.0.2.101
data_dir: /tmp/unused
services:
  - name: app
    backends: [{ address: 192.0.2.10 }, { address: 192.0.2.11 }]
`);

const query = (name: string, type: packet.RecordType, edns: boolean) =>
  new Uint8Array(
    packet.encode({
      type: "query",
      id: 7,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name, type, class: "IN" }],
      additionals: edns ? [{ type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0, options: [] } as never] : [],
    }),
  );

const mixes: Record<string, Uint8Array[]> = {
  "static A (cache hit)": [query("host1.bench.test", "A", false)],
  "service A, roundrobin (cache hit)": [query("app.bench.test", "A", false)],
  "NXDOMAIN, EDNS (cache hit)": [query("nope.bench.test", "A", true)],
  "REFUSED, out of zone": [query("example.org", "A", false)],
  "mix of the above + AAAA": [
    query("host1.bench.test", "A", false),
    query("app.bench.test", "A", false),
    query("mail.bench.test", "AAAA", true),
    query("nope.bench.test", "A", true),
    query("example.org", "A", false),
  ],
};

function makePipeline(count: boolean): DnsPipeline {
  const board = new HealthBoard(new ManualClock());
  board.setServices(config.services);
  return new DnsPipeline(buildEngine(config, () => 1), board, { countQueries: count });
}

const ITERATIONS = 500_000;
const ROUNDS = 15;
let sink = 0;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const [name, queries] of Object.entries(mixes)) {
  const timed = (pipeline: DnsPipeline, n: number) => {
    const start = Bun.nanoseconds();
    for (let i = 0; i < n; i++) sink += pipeline.handle(queries[i % queries.length]!, "127.0.0.1", "udp")?.length ?? 0;
    return (Bun.nanoseconds() - start) / n;
  };
  const on = makePipeline(true);
  const off = makePipeline(false);
  timed(on, 200_000);
  timed(off, 200_000);
  const samples = { on: [] as number[], off: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    samples.on.push(timed(on, ITERATIONS));
    samples.off.push(timed(off, ITERATIONS));
  }
  const [withCounting, without] = [median(samples.on), median(samples.off)];
  console.log(
    `${name.padEnd(36)} counting on ${withCounting.toFixed(0).padStart(5)} ns/query, off ${without.toFixed(0).padStart(5)} ns/query, cost ${(withCounting - without).toFixed(0).padStart(4)} ns`,
  );
}
if (sink === 0) console.log("unreachable");
