// Per-query counts and answer latency, kept where the answer path can bump them for a few array
// writes: no Map, no strings, no label objects per query. Whoever exports them (the metrics layer)
// reads them when scraped. The pipeline owns one for its lifetime, so counts survive reloads.

import type { Transport } from "./pipeline.ts";

/** Upper bounds of the latency buckets, ns: 5 µs .. 50 ms, plus the implicit +Inf bucket. */
export const LATENCY_BOUNDS_NS: readonly number[] = [
  5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 2.5e7, 5e7,
];

/** Distinct query types counted apart; later new ones share slot "other", so a flood of random types cannot grow the series without bound. */
export const MAX_QTYPE_SLOTS = 128;
/** Slot 0: types past the cap. Slot 1: no readable question (FORMERR before the question). */
const OTHER_SLOT = 0;
const NO_QUESTION_SLOT = 1;
/** Rcodes 0..31 cover every rcode vigil sends (up to BADVERS = 16); higher ones are folded by mask. */
const RCODE_SLOTS = 32;
const TRANSPORTS = 2;
const ROW = MAX_QTYPE_SLOTS * RCODE_SLOTS * TRANSPORTS;

/** Zone slot for answers that are in none of our zones (REFUSED, unparsable, class not IN). */
export const NO_ZONE = 0;

/** One non-zero counter: which zone, type, rcode and transport, and how many responses. */
export interface QueryCount {
  /** A zone apex, or undefined for "in none of our zones". */
  zone: string | undefined;
  /** The query type code; "other" past the cap, "none" when the question was unreadable. */
  qtype: number | "other" | "none";
  /** Including extended rcodes (BADVERS = 16). */
  rcode: number;
  transport: Transport;
  count: number;
}

export class QueryCounters {
  /** Zone apex by slot; slot 0 is "no zone". Slots are never reused, so a series never changes meaning. */
  private readonly zoneNames: (string | undefined)[] = [undefined];
  private readonly zoneSlots = new Map<string, number>();
  /** Counts per zone slot, indexed by (qtype slot, rcode, transport). */
  private readonly rows: Float64Array[] = [new Float64Array(ROW)];
  /** qtype → slot, -1 until first seen. */
  private readonly qtypeSlots = new Int16Array(65536).fill(-1);
  private readonly qtypeOfSlot: (number | "other" | "none")[] = ["other", "none"];

  /** Responses per latency bucket (not cumulative); the last one is +Inf. */
  readonly latencyBuckets = new Float64Array(LATENCY_BOUNDS_NS.length + 1);
  latencySumNs = 0;
  latencyCount = 0;

  /** The slot of a zone, assigned on first use. Called on response-cache misses, not per query. */
  zoneSlot(apex: string): number {
    let slot = this.zoneSlots.get(apex);
    if (slot === undefined) {
      slot = this.zoneNames.length;
      this.zoneNames.push(apex);
      this.zoneSlots.set(apex, slot);
      this.rows.push(new Float64Array(ROW));
    }
    return slot;
  }

  /** One response sent: `qtype` -1 when the question could not be read. */
  count(zone: number, qtype: number, rcode: number, transport: Transport, elapsedNs: number): void {
    let q = qtype < 0 ? NO_QUESTION_SLOT : this.qtypeSlots[qtype]!;
    if (q < 0) q = this.assignQtype(qtype);
    this.rows[zone]![(q * RCODE_SLOTS + (rcode & (RCODE_SLOTS - 1))) * TRANSPORTS + (transport === "udp" ? 0 : 1)]!++;
    let b = 0;
    while (b < LATENCY_BOUNDS_NS.length && elapsedNs > LATENCY_BOUNDS_NS[b]!) b++;
    this.latencyBuckets[b]!++;
    this.latencySumNs += elapsedNs;
    this.latencyCount++;
  }

  /** Every non-zero counter. Walks all slots: meant for a scrape, not the answer path. */
  counts(): QueryCount[] {
    const out: QueryCount[] = [];
    for (let z = 0; z < this.rows.length; z++) {
      const row = this.rows[z]!;
      for (let i = 0; i < ROW; i++) {
        const count = row[i]!;
        if (count === 0) continue;
        const transport = i % TRANSPORTS === 0 ? "udp" : "tcp";
        const rcode = Math.floor(i / TRANSPORTS) % RCODE_SLOTS;
        const q = Math.floor(i / (TRANSPORTS * RCODE_SLOTS));
        out.push({ zone: this.zoneNames[z], qtype: this.qtypeOfSlot[q]!, rcode, transport, count });
      }
    }
    return out;
  }

  private assignQtype(qtype: number): number {
    const slot = this.qtypeOfSlot.length < MAX_QTYPE_SLOTS ? this.qtypeOfSlot.length : OTHER_SLOT;
    if (slot !== OTHER_SLOT) this.qtypeOfSlot.push(qtype);
    this.qtypeSlots[qtype] = slot;
    return slot;
  }
}
