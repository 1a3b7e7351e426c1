// A histogram whose buckets someone else keeps (the DNS answer path counts into a typed array, see
// dns/server/query-counters.ts). prom-client's Histogram can only be fed one observe() at a time,
// which is far too dear per query; the Registry only needs an object with a name, help, type and
// get(), so this hands it the buckets as they are at scrape time.

import type { Metric, Registry } from "prom-client";

/** What the histogram shows: upper bounds and non-cumulative counts (one more, for +Inf), in the metric's unit. */
export interface BucketReading {
  bounds: readonly number[];
  counts: ArrayLike<number>;
  sum: number;
  count: number;
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export function registerFixedHistogram(registry: Registry, name: string, help: string, read: () => BucketReading | undefined): void {
  registerFixedHistograms(registry, name, help, () => {
    const reading = read();
    return reading ? [{ labels: {}, reading }] : [];
  });
}

/** One histogram with a series per label set, each with buckets its owner keeps (the balancer's backends). */
export function registerFixedHistograms(
  registry: Registry,
  name: string,
  help: string,
  read: () => Iterable<{ labels: Record<string, string>; reading: BucketReading }>,
): void {
  const metric = {
    name,
    help,
    type: "histogram" as const,
    aggregator: "sum" as const,
    // Nothing of ours to reset: the counts belong to their owner.
    reset() {},
    async get() {
      const values = [...read()].flatMap(({ labels, reading }) => histogramValues(name, reading, labels));
      return { name, help, type: "histogram" as const, aggregator: "sum" as const, values };
    },
  };
  // The Registry's typing names its four metric classes, but it reads only the fields above.
  registry.registerMetric(metric as unknown as Metric);
}

/** Cumulative `le` buckets, +Inf, _sum and _count, as Prometheus expects them; none without a reading. */
export function histogramValues(name: string, reading: BucketReading | undefined, labels: Record<string, string> = {}): HistogramValue[] {
  if (!reading) return [];
  const values: HistogramValue[] = [];
  let cumulative = 0;
  reading.bounds.forEach((bound, i) => {
    cumulative += reading.counts[i] ?? 0;
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
  });
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: reading.count });
  values.push({ metricName: `${name}_sum`, labels, value: reading.sum });
  values.push({ metricName: `${name}_count`, labels, value: reading.count });
  return values;
}
