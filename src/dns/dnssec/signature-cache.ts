// RRSIGs by RRset content: a policy's rotations and reorderings of one healthy subset are one
// RRset to a validator (signatures cover the canonical order), so they are signed once. Bounded.

import type { RData, RR, RRset } from "../types.ts";

export class SignatureCache {
  private readonly entries = new Map<string, RR[]>();
  hits = 0;
  misses = 0;
  signings = 0;

  constructor(private readonly maxEntries: number) {}

  /** The signatures for `set` in signing epoch `epoch`, made by `sign` on a miss. */
  get(set: RRset, epoch: number, sign: (set: RRset) => RR[]): RR[] {
    const key = `${epoch}|${contentKey(set)}`;
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    this.signings++;
    const signatures = sign(set);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, signatures);
    return signatures;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Owner, type, TTL and the rdata as a sorted list: the same for every order of the same records. */
export function contentKey(set: RRset): string {
  const rdata = set.rdata.map(rdataKey).sort();
  return `${set.name}|${set.type}|${set.ttl}|${rdata.join(",")}`;
}

function rdataKey(rdata: RData): string {
  if (rdata.kind === "bytes") return Buffer.from(rdata.bytes).toString("hex");
  return JSON.stringify(rdata);
}
