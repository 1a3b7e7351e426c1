// Application message ids seen lately, so a message that comes round again is neither delivered
// nor re-gossiped twice. An id is forgotten after the window: long past the few seconds a message
// keeps circulating (retransmit limit × gossip interval), short enough to stay small.

export class SeenMessages {
  // A Map keeps insertion order, which is time order here, so expiry only looks at the front.
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** Records the id; false when it was already there. */
  add(id: string, now: number): boolean {
    this.expire(now);
    if (this.firstSeen.has(id)) return false;
    this.firstSeen.set(id, now);
    return true;
  }

  private expire(now: number): void {
    for (const [id, at] of this.firstSeen) {
      if (now - at < this.windowMs) return;
      this.firstSeen.delete(id);
    }
  }
}
