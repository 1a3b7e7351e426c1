// Broadcasts waiting to ride on outgoing packets, each sent a limited number of times (memberlist's
// TransmitLimitedQueue). The least-sent go first, then the largest (to pack packets well), then
// the newest. A broadcast with a key replaces a queued one with the same key: a newer alive for a
// member makes the older one pointless.

interface Entry {
  bytes: Uint8Array;
  key: string | undefined;
  transmits: number;
  order: number;
  onDone: (() => void) | undefined;
}

export interface QueueOptions {
  key?: string;
  /** Called once the broadcast will not be sent again: sent enough times, replaced, or pruned. */
  onDone?: () => void;
}

export class BroadcastQueue {
  private entries: Entry[] = [];
  private queued = 0;

  constructor(private readonly maxDepth: number) {}

  get size(): number {
    return this.entries.length;
  }

  /** Adds a broadcast; returns how many old ones were pruned to stay within the depth limit. */
  queue(bytes: Uint8Array, options: QueueOptions = {}): number {
    if (options.key !== undefined) {
      const old = this.entries.findIndex((e) => e.key === options.key);
      if (old >= 0) this.finish(this.entries.splice(old, 1)[0]!);
    }
    this.entries.push({ bytes, key: options.key, transmits: 0, order: this.queued++, onDone: options.onDone });
    let pruned = 0;
    if (this.entries.length > this.maxDepth) {
      this.sort();
      while (this.entries.length > this.maxDepth) {
        this.finish(this.entries.pop()!);
        pruned++;
      }
    }
    return pruned;
  }

  /**
   * Broadcasts that fit in `budget` bytes, counting `overhead` bytes per broadcast; each taken one
   * counts a transmission and leaves the queue once it has been sent `limit` times.
   */
  take(budget: number, overhead: number, limit: number): Uint8Array[] {
    if (this.entries.length === 0) return [];
    this.sort();
    const out: Uint8Array[] = [];
    let free = budget;
    for (const entry of this.entries) {
      if (free - overhead <= 0) break;
      if (entry.bytes.length + overhead > free) continue;
      out.push(entry.bytes);
      free -= entry.bytes.length + overhead;
      entry.transmits++;
    }
    const spent = this.entries.filter((e) => e.transmits >= limit);
    if (spent.length > 0) {
      this.entries = this.entries.filter((e) => e.transmits < limit);
      spent.forEach((e) => this.finish(e));
    }
    return out;
  }

  private sort(): void {
    this.entries.sort((a, b) => a.transmits - b.transmits || b.bytes.length - a.bytes.length || b.order - a.order);
  }

  private finish(entry: Entry): void {
    entry.onDone?.();
  }
}
