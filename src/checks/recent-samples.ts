// The most recent N values of a measure, for percentiles over a sliding window (probe start lateness).

export class RecentSamples {
  private readonly values: number[] = [];
  private nextSlot = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`sample window: expected a whole number of at least 1, got ${capacity}`);
  }

  get count(): number {
    return this.values.length;
  }

  record(value: number): void {
    this.values[this.nextSlot] = value;
    this.nextSlot = (this.nextSlot + 1) % this.capacity;
  }

  /** Nearest-rank percentile, p in (0, 100]; 0 before any sample. */
  percentile(p: number): number {
    if (this.values.length === 0) return 0;
    const sorted = [...this.values].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.max(0, rank - 1)]!;
  }
}
