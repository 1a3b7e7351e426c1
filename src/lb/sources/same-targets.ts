// Sources re-offer their list only when it changed: a pool's setTargets is cheap, but a log line or a
// ping-check reconcile per unchanged round is noise.

import { targetKey } from "../pool.ts";
import type { LbTarget } from "../types.ts";

/** Same addresses, ports and weights, whatever the order (a repeated target counts once, as in the pool). */
export function sameTargets(a: readonly LbTarget[], b: readonly LbTarget[]): boolean {
  const weightsOf = (list: readonly LbTarget[]) => new Map(list.map((t) => [targetKey(t), t.weight]));
  const left = weightsOf(a);
  const right = weightsOf(b);
  if (left.size !== right.size) return false;
  for (const [key, weight] of left) if (right.get(key) !== weight) return false;
  return true;
}
