// Lifeguard's suspicion timer as memberlist runs it: it starts at max and falls towards min as
// independent members confirm the suspicion, by log(c + 1) / log(k + 1) of the way for c of the k
// expected confirmations. A pure value: it says when the suspect is due to die; the caller arms a timer.

export class Suspicion {
  private readonly confirmedBy = new Set<string>();
  private count = 0;

  /**
   * @param from who raised the suspicion; it never counts as a confirmation.
   * @param k confirmations expected; below 1 the timeout is min from the start.
   */
  constructor(
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly startedAt: number,
  ) {
    this.confirmedBy.add(from);
  }

  get confirmations(): number {
    return this.count;
  }

  /** When the suspect is declared dead unless it refutes first. */
  get deadline(): number {
    if (this.k < 1) return this.startedAt + this.minMs;
    const fraction = Math.log(this.count + 1) / Math.log(this.k + 1);
    const timeout = Math.floor(this.maxMs - fraction * (this.maxMs - this.minMs));
    return this.startedAt + Math.max(this.minMs, timeout);
  }

  /** Counts a confirmation from a member not heard from yet; true when that moved the deadline (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.count >= this.k || this.confirmedBy.has(from)) return false;
    this.confirmedBy.add(from);
    this.count++;
    return true;
  }
}
