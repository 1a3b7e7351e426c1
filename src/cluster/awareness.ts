// Lifeguard's local health: a node that keeps missing acks (or its peers' nacks) is more likely
// slow itself than surrounded by dead peers, so it stretches its own probe timing instead of
// accusing others. Score 0 is healthy; timeouts are multiplied by score + 1.

export class Awareness {
  private current = 0;

  constructor(private readonly maxMultiplier: number) {}

  get score(): number {
    return this.current;
  }

  applyDelta(delta: number): void {
    this.current = Math.min(this.maxMultiplier - 1, Math.max(0, this.current + delta));
  }

  scale(ms: number): number {
    return ms * (this.current + 1);
  }
}
