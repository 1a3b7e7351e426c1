// Fully built responses, keyed by (qname, qtype, DO). A static answer is one body; an answer that a
// policy chooses per query keeps one body per variant (rotation, weighted pick, region). Bodies are
// stored without their OPT record, which is appended per client (it may carry an ECS echo).

import type { LookupResult } from "../types.ts";

export interface CachedBody {
  body: Uint8Array;
  /** ECS scope of this answer (0 when location played no part). */
  scope: number;
}

export type CacheEntry =
  | { kind: "static"; answer: CachedBody }
  | { kind: "dynamic"; result: LookupResult; variants: Map<string, CachedBody> };

export class ResponseCache {
  private readonly entries = new Map<string, CacheEntry>();
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
    if (this.entries.size >= this.maxEntries) {
      // Insertion order makes the first key the oldest: a cheap FIFO bound that a name flood cannot grow past.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
  }

  /** Zones or health changed: every stored answer may be wrong now. */
  clear(maxEntries = this.maxEntries): void {
    this.entries.clear();
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }
}
