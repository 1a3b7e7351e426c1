// The min_healthy floor: probes alone never take a service below this many backends. Overrides and
// draining still can (an operator's word is not a probe's guess).

import type { ServiceConfig } from "../config/types.ts";
import type { Decision } from "./decide.ts";

export function floorOf(service: Pick<ServiceConfig, "min_healthy">, backendCount: number): number {
  const min = service.min_healthy;
  if (!min) return 0;
  const wanted = "count" in min ? min.count : Math.ceil((min.percent * backendCount) / 100);
  return Math.min(wanted, backendCount);
}

/**
 * Keeps backends that probes took out until `floor` are up, those in the answer now first (so the
 * answer does not reshuffle), then in list order. Returns new decisions saying the floor kept them.
 */
export function applyFloor(decisions: readonly Decision[], floor: number, inAnswerNow: (i: number) => boolean): Decision[] {
  let up = decisions.filter((d) => d.state === "up").length;
  if (up >= floor) return [...decisions];
  const candidates = decisions
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => d.state === "down" && d.outByProbe)
    .sort((a, b) => Number(inAnswerNow(b.i)) - Number(inAnswerNow(a.i)) || a.i - b.i);
  const out = [...decisions];
  for (const { d, i } of candidates) {
    if (up >= floor) break;
    out[i] = { state: "up", reason: `kept in by min_healthy (${floor}); ${d.reason}`, outByProbe: false, keptByFloor: true };
    up++;
  }
  return out;
}
