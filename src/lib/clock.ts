// An injectable clock: everything with timers takes one, so tests drive time instead of sleeping.

export type TimerHandle = { cancel(): void };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that only moves when a test calls advance(); timers fire in due order. */
export class ManualClock implements Clock {
  private current: number;
  private timers: { due: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Moves time forward by ms, firing every timer that falls due, including ones scheduled meanwhile. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers
        .filter((t) => t.due <= end)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.current = next.due;
      next.cancelled = true;
      next.fn();
    }
    this.current = end;
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** When the earliest pending timer falls due; lets a test step timer by timer, settling promises in between. */
  nextTimerDue(): number | undefined {
    let earliest: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (earliest === undefined || t.due < earliest)) earliest = t.due;
    return earliest;
  }
}
