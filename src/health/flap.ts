// Flap damping: a backend whose verdict keeps changing is held out for a while, so answers do not
// swing with every probe. Changes are counted in a sliding window.

import type { FlapDampingConfig } from "../config/types.ts";

export class FlapDamper {
  private changes: number[] = [];
  private heldUntil: number | undefined;

  constructor(private config: FlapDampingConfig) {}

  reconfigure(config: FlapDampingConfig): void {
    this.config = config;
  }

  /** Records a verdict change at `now`; returns the hold-out end when this change starts or extends one. */
  recordChange(now: number): number | undefined {
    const { max_changes, window, hold_down } = this.config;
    if (max_changes === 0) return undefined;
    this.changes = this.changes.filter((t) => t > now - window);
    this.changes.push(now);
    if (this.changes.length >= max_changes) this.heldUntil = now + hold_down;
    return this.heldUntil !== undefined && this.heldUntil > now ? this.heldUntil : undefined;
  }

  /** The end of the current hold-out, if one is in force at `now`. */
  heldOutUntil(now: number): number | undefined {
    return this.heldUntil !== undefined && this.heldUntil > now ? this.heldUntil : undefined;
  }

  /** Verdict changes counted in the current window. */
  recentChanges(now: number): number {
    return this.changes.filter((t) => t > now - this.config.window).length;
  }
}
