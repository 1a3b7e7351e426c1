// Overrides shared by every overwatch: the latest change per backend address (set or clear, with its
// time) wins, so nodes that hear the same changes in any order end up with the same overrides. A
// clear is remembered for TOMBSTONE_MS, long enough for anti-entropy to carry it everywhere; an
// older set heard after that is taken as new, which only a partition longer than that can cause.

import type { OverrideChange } from "./engine.ts";

export const TOMBSTONE_MS = 600_000;

const keyOf = (c: OverrideChange) => (c.op === "set" ? `${c.override.service}|${c.override.address}` : `${c.service}|${c.address}`);

export class OverrideLedger {
  private readonly latest = new Map<string, OverrideChange>();

  /** A change made here (or applied from a peer). */
  record(change: OverrideChange): void {
    const known = this.latest.get(keyOf(change));
    if (!known || change.at >= known.at) this.latest.set(keyOf(change), change);
  }

  /** A peer's changes: those newer than what this node knows, which the caller must apply. */
  merge(changes: readonly OverrideChange[]): OverrideChange[] {
    const newer: OverrideChange[] = [];
    for (const change of changes) {
      const known = this.latest.get(keyOf(change));
      if (known && known.at >= change.at) continue;
      this.latest.set(keyOf(change), change);
      newer.push(change);
    }
    return newer;
  }

  /** Everything worth telling a peer: overrides in force and recent clears. */
  snapshot(now: number): OverrideChange[] {
    const out: OverrideChange[] = [];
    for (const [key, change] of this.latest) {
      const expired = change.op === "set" && change.override.expiresAt !== undefined && change.override.expiresAt <= now;
      const forgotten = change.op === "clear" && now - change.at > TOMBSTONE_MS;
      if (expired || forgotten) this.latest.delete(key);
      else out.push(change);
    }
    return out;
  }
}
