// Fully built responses, keyed by (qname, qtype, DO). A static answer is one body; an answer that a
// policy chooses per query keeps one body per variant (rotation, weighted pick, region). Bodies are
// stored without their OPT record, which is appended per client (it may carry an ECS echo).

import type { LookupResult } from "../types.ts";

export interface CachedBody {
  body: Uint8Array;
  /** ECS scope of this answer (0 when location played no part). */
  scope: number;
}

export type CacheEntry = (
  | { kind: "static"; answer: CachedBody }
  | { kind: "dynamic"; result: LookupResult; variants: Map<string, CachedBody> }
) & {
  /** The query counters' slot of the zone the name is in, so a hit counts without a zone search. */
  zone: number;
};

export class ResponseCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Keys in insertion order, as a ring: evicting by walking a Map's iterator slows as deletions pile up. */
  private order: string[] = [];
  private head = 0;
  hits = 0;
  misses = 0;

  constructor(private maxEntries: number) {}

  static key(qname: string, qtype: number, dnssecOk: boolean): string {
    return `${qname}|${qtype}|${dnssecOk ? 1 : 0}`;
  }

  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) this.hits++;
    else this.misses++;
    return entry;
  }

  set(key: string, entry: CacheEntry): void {
    // Oldest first out: a cheap bound that a flood of random names cannot grow past.
    while (this.entries.size >= this.maxEntries && this.head < this.order.length) this.entries.delete(this.order[this.head++]!);
    if (this.head > this.maxEntries) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    if (!this.entries.has(key)) this.order.push(key);
    this.entries.set(key, entry);
  }

  /** Zones or health changed: every stored answer may be wrong now. */
  clear(maxEntries = this.maxEntries): void {
    this.entries.clear();
    this.order = [];
    this.head = 0;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }
}
