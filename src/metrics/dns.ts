// DNS series. The answer path only bumps plain counters (dns/server/query-counters.ts and the caches'
// hit/miss fields); every value here is read from them when Prometheus scrapes.

import { Counter, type Registry } from "prom-client";
import { LATENCY_BOUNDS_NS, type QueryCounters } from "../dns/server/query-counters.ts";
import { qtypeLabel, rcodeLabel } from "./dns-labels.ts";
import { registerFixedHistogram } from "./fixed-histogram.ts";

/** What these series read: DnsPipeline has all of it. */
export interface DnsSource {
  readonly counters: QueryCounters | undefined;
  readonly cache: { readonly hits: number; readonly misses: number };
  readonly signatures: { readonly hits: number; readonly misses: number };
  readonly stats: { readonly dropped: number; readonly errors: number; readonly truncated: number };
}

export function registerDnsMetrics(registry: Registry, dns: DnsSource): void {
  new Counter({
    name: "vigil_dns_queries_total",
    help: "DNS responses sent, by the served zone the query name falls in (\"none\" when it is in none of them: REFUSED, unreadable, not class IN), query type, response code and transport.",
    labelNames: ["zone", "qtype", "rcode", "transport"],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of dns.counters?.counts() ?? []) {
        this.inc({ zone: c.zone ?? "none", qtype: qtypeLabel(c.qtype), rcode: rcodeLabel(c.rcode), transport: c.transport }, c.count);
      }
    },
  });

  registerFixedHistogram(
    registry,
    "vigil_dns_answer_seconds",
    "Time to answer one DNS query, from its bytes in hand to the response's bytes ready (socket time not included).",
    () => {
      const c = dns.counters;
      if (!c) return undefined;
      return { bounds: LATENCY_BOUNDS_NS.map((ns) => ns / 1e9), counts: c.latencyBuckets, sum: c.latencySumNs / 1e9, count: c.latencyCount };
    },
  );

  hitMissCounter(
    registry,
    "vigil_dns_response_cache_total",
    "Response cache lookups: a hit reuses a fully built answer (only ID, case and OPT are patched); a miss runs zone lookup, policy and encoding. The cache empties when health or zones change.",
    () => dns.cache,
  );
  hitMissCounter(
    registry,
    "vigil_dnssec_signature_cache_total",
    "DNSSEC signature cache lookups: a miss signs an RRset (costly), a hit reuses the RRSIGs made for the same RRset content in the current signing window.",
    () => dns.signatures,
  );

  const fromStats = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  fromStats("vigil_dns_dropped_total", "DNS packets dropped without a reply: too short for a header, or responses rather than queries.", () => dns.stats.dropped);
  fromStats("vigil_dns_truncated_total", "DNS responses cut to header, question and OPT with TC set because they did not fit the client's UDP size; the client retries over TCP.", () => dns.stats.truncated);
  fromStats("vigil_dns_internal_errors_total", "DNS queries that hit an internal error and were answered SERVFAIL (a bug: please report it).", () => dns.stats.errors);
}

function hitMissCounter(registry: Registry, name: string, help: string, read: () => { hits: number; misses: number }): void {
  new Counter({
    name,
    help,
    labelNames: ["result"],
    registers: [registry],
    collect() {
      const { hits, misses } = read();
      this.reset();
      this.inc({ result: "hit" }, hits);
      this.inc({ result: "miss" }, misses);
    },
  });
}
