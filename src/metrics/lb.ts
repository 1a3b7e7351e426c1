// The L4 balancer, per server and per backend: connections, bytes, refusals, errors and connect
// latency. The proxies keep plain counters in their stats; nothing here runs per connection, every
// series is read from the stats when Prometheus scrapes.

import { Counter, Gauge, type Registry } from "prom-client";
import { formatHostPort } from "../lib/hostport.ts";
import { CONNECT_BUCKETS_S, type LbBackendStats, type LbServerStats } from "../lb/types.ts";
import { type BucketReading, registerFixedHistograms } from "./fixed-histogram.ts";

export type LbSource = () => readonly LbServerStats[];

type Labels = Record<string, string>;

/** A server as series rows: a draining server is still counted under its name until it is gone. */
function serverRows(source: LbSource, value: (s: LbServerStats) => number): [Labels, number][] {
  return source().map((s) => [{ server: s.name }, value(s)]);
}

function backendRows(source: LbSource, value: (b: LbBackendStats) => number): [Labels, number][] {
  return source().flatMap((s) => s.backends.map((b): [Labels, number] => [backendLabels(s, b), value(b)]));
}

const backendLabels = (s: LbServerStats, b: LbBackendStats): Labels => ({ server: s.name, backend: formatHostPort({ host: b.address, port: b.port }) });

const bytesRows = <T extends { bytesIn: number; bytesOut: number }>(items: [Labels, T][]): [Labels, number][] =>
  items.flatMap(([labels, item]): [Labels, number][] => [
    [{ ...labels, direction: "in" }, item.bytesIn],
    [{ ...labels, direction: "out" }, item.bytesOut],
  ]);

/**
 * The owner keeps running totals; each scrape sets the series to them. A server that is replaced or
 * removed and made again starts from 0, which Prometheus reads as a counter reset. Rows with the
 * same labels (a draining server and its replacement) add up.
 */
function show(metric: Gauge | Counter, rows: [Labels, number][]): void {
  metric.reset();
  for (const [labels, n] of rows) metric.inc(labels, n);
}

function series(registry: Registry, kind: "gauge" | "counter", name: string, help: string, labelNames: string[], rows: () => [Labels, number][]): void {
  const options = { name, help, labelNames, registers: [registry] };
  if (kind === "gauge") new Gauge({ ...options, collect() { show(this, rows()); } });
  else new Counter({ ...options, collect() { show(this, rows()); } });
}

export function registerLbMetrics(registry: Registry, source: LbSource): void {
  const server = ["server"];
  const backend = ["server", "backend"];
  series(registry, "gauge", "vigil_lb_connections_active", "Open client connections of each L4 balancer server (udp: live sessions).", server, () => serverRows(source, (s) => s.active));
  series(registry, "counter", "vigil_lb_connections_total", "Client connections (udp: sessions) each balancer server accepted.", server, () => serverRows(source, (s) => s.total));
  series(registry, "counter", "vigil_lb_refused_total", "Clients refused: max_connections reached, or no backend to send them to.", server, () => serverRows(source, (s) => s.refused));
  series(registry, "counter", "vigil_lb_denied_total", "Clients denied by the server's access rules.", server, () => serverRows(source, (s) => s.denied));
  series(registry, "counter", "vigil_lb_errors_total", "Client connections that ended in an error (every backend failed, TLS handshake failed, ...).", server, () => serverRows(source, (s) => s.errors));
  series(registry, "counter", "vigil_lb_bytes_total", "Bytes through each balancer server: in = from clients to backends, out = back to clients.", [...server, "direction"], () =>
    bytesRows(source().map((s) => [{ server: s.name }, s])),
  );
  // Only running servers: a draining one takes no new clients, and its copy of a backend would add up.
  const running = () => source().filter((s) => s.state === "running");
  series(registry, "gauge", "vigil_lb_backend_up", "1 while the backend may get new clients, 0 while the balancer's own ping check holds it out.", backend, () => backendRows(running, (b) => (b.healthy ? 1 : 0)));
  series(registry, "gauge", "vigil_lb_backend_connections_active", "Open connections (udp: sessions) to each backend.", backend, () => backendRows(source, (b) => b.active));
  series(registry, "counter", "vigil_lb_backend_connections_total", "Connections (udp: sessions) made to each backend.", backend, () => backendRows(source, (b) => b.total));
  series(registry, "counter", "vigil_lb_backend_errors_total", "Connects to each backend that failed or timed out (the client was retried on another).", backend, () => backendRows(source, (b) => b.errors));
  series(registry, "counter", "vigil_lb_backend_bytes_total", "Bytes to and from each backend: in = from clients to the backend, out = back to clients.", [...backend, "direction"], () =>
    bytesRows(source().flatMap((s) => s.backends.map((b): [Labels, LbBackendStats] => [backendLabels(s, b), b]))),
  );
  registerFixedHistograms(registry, "vigil_lb_backend_connect_seconds", "Time to connect to each backend, successful connects only.", () => connectReadings(source()));
}

/** One reading per server and backend: a draining server's counts add to its replacement's. */
function connectReadings(servers: readonly LbServerStats[]): { labels: Labels; reading: BucketReading }[] {
  const merged = new Map<string, { labels: Labels; reading: BucketReading & { counts: number[] } }>();
  for (const s of servers) {
    for (const b of s.backends) {
      const labels = backendLabels(s, b);
      const key = `${labels.server} ${labels.backend}`;
      const entry = merged.get(key) ?? { labels, reading: { bounds: CONNECT_BUCKETS_S, counts: new Array<number>(CONNECT_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 } };
      b.connect.counts.forEach((n, i) => (entry.reading.counts[i]! += n));
      entry.reading.sum += b.connect.sum;
      entry.reading.count += b.connect.count;
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}
