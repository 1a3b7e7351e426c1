// Gossip between overwatches (overwatch mode): members by state, packets and what was dropped (a
// wrong key shows here first), failure detection, and the peers' verdict reports the quorum rests on.

import { Counter, Gauge, type Registry } from "prom-client";

export interface GossipSource {
  members(): readonly { state: string }[];
  stats(): {
    packetsIn: number;
    packetsOut: number;
    dropped: Partial<Record<string, number>>;
    probeFailures: number;
    suspicions: number;
    refutations: number;
    messagesRejected: number;
    peers: readonly { fresh: boolean }[];
  };
}

/** The gossip layer keeps running totals; each scrape sets the counter to them (they never go back). */
function totals(counter: Counter, rows: [Record<string, string>, number][]): void {
  counter.reset();
  for (const [labels, total] of rows) counter.inc(labels, total);
}

export function registerGossipMetrics(registry: Registry, source: () => GossipSource | undefined): void {
  new Gauge({
    name: "vigil_gossip_members",
    help: "Gossip members in this node's view, by state (alive, suspect, dead, left); this node included.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.reset();
      const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of source()?.members() ?? []) counts[m.state] = (counts[m.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "vigil_gossip_peers_reporting",
    help: "Other overwatches whose verdict report is fresh: how many could agree to take a backend out (compare with gossip.min_peers_agree).",
    registers: [registry],
    collect() {
      this.set(source()?.stats().peers.filter((p) => p.fresh).length ?? 0);
    },
  });
  new Counter({
    name: "vigil_gossip_packets_total",
    help: "Gossip packets sent and received.",
    labelNames: ["direction"],
    registers: [registry],
    collect() {
      const stats = source()?.stats();
      if (!stats) return;
      totals(this, [[{ direction: "in" }, stats.packetsIn], [{ direction: "out" }, stats.packetsOut]]);
    },
  });
  new Counter({
    name: "vigil_gossip_dropped_total",
    help: "Gossip packets and messages dropped before being acted on, by reason (wrong-key: sealed with a key this node does not have).",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      const stats = source()?.stats();
      if (!stats) return;
      const dropped = Object.entries(stats.dropped).map(([reason, n]): [Record<string, string>, number] => [{ reason }, n ?? 0]);
      totals(this, [...dropped, [{ reason: "bad-app-message" }, stats.messagesRejected]]);
    },
  });
  new Counter({
    name: "vigil_gossip_failure_detector_total",
    help: "SWIM failure detection on this node: probes that got no ack at all, members it came to suspect, and refutations of suspicion of itself.",
    labelNames: ["event"],
    registers: [registry],
    collect() {
      const stats = source()?.stats();
      if (!stats) return;
      totals(this, [
        [{ event: "probe_failure" }, stats.probeFailures],
        [{ event: "suspicion" }, stats.suspicions],
        [{ event: "refutation" }, stats.refutations],
      ]);
    },
  });
}
