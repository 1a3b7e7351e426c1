// Waiting acks by sequence number: a probe (or an indirect probe we run for someone else) registers
// what to do on ack and nack; the entry lapses by itself after its lifetime.

import type { Clock, TimerHandle } from "../lib/clock.ts";

export interface AckHandlers {
  ack(): void;
  nack?(): void;
}

export class AckRegistry {
  private readonly waiting = new Map<number, { handlers: AckHandlers; timer: TimerHandle }>();
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  /** A fresh sequence number (32 bits, wrapping). */
  next(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  expect(seq: number, handlers: AckHandlers, lifetimeMs: number): void {
    this.waiting.get(seq)?.timer.cancel();
    const timer = this.clock.setTimeout(() => this.waiting.delete(seq), lifetimeMs);
    this.waiting.set(seq, { handlers, timer });
  }

  /** True when someone was waiting for this ack. */
  ack(seq: number): boolean {
    const entry = this.waiting.get(seq);
    if (!entry) return false;
    this.waiting.delete(seq);
    entry.timer.cancel();
    entry.handlers.ack();
    return true;
  }

  nack(seq: number): boolean {
    const entry = this.waiting.get(seq);
    if (!entry) return false;
    entry.handlers.nack?.();
    return true;
  }

  clear(): void {
    for (const entry of this.waiting.values()) entry.timer.cancel();
    this.waiting.clear();
  }
}
