// The policies as tiny pure functions over the pool of candidate endpoints (gobetween's `elect`).

import type { Endpoint, ServicePlan } from "./plan.ts";

export interface Election {
  endpoints: Endpoint[];
  /** Names this particular answer for the response cache. */
  variant: string;
}

/** Rotates the pool one step per query, so every endpoint leads in turn. */
export function roundRobin(pool: readonly Endpoint[], plan: ServicePlan): Election {
  const offset = plan.turn++ % pool.length;
  return { endpoints: rotated(pool, offset, plan.maxAnswers), variant: `r${offset}` };
}

/** Draws max_answers endpoints without replacement, each with probability in proportion to its weight. */
export function weighted(pool: readonly Endpoint[], plan: ServicePlan, random: () => number): Election {
  const remaining = [...pool];
  const allZero = remaining.every((e) => e.weight === 0);
  const weightOf = (e: Endpoint) => (allZero ? 1 : e.weight);
  const chosen: Endpoint[] = [];
  while (chosen.length < plan.maxAnswers && remaining.length > 0) {
    const total = remaining.reduce((sum, e) => sum + weightOf(e), 0);
    if (total === 0) break;
    let point = random() * total;
    let pick = remaining.findIndex((e) => (point -= weightOf(e)) < 0);
    if (pick < 0) pick = remaining.length - 1;
    chosen.push(remaining[pick]!);
    remaining.splice(pick, 1);
  }
  return { endpoints: chosen, variant: `w${chosen.map((e) => e.index).join(",")}` };
}

/** Only the best (lowest) priority tier that has candidates; rotated within the tier. */
export function failover(pool: readonly Endpoint[], plan: ServicePlan): Election {
  const best = Math.min(...pool.map((e) => e.priority));
  const tier = pool.filter((e) => e.priority === best);
  const offset = plan.turn++ % tier.length;
  return { endpoints: rotated(tier, offset, plan.maxAnswers), variant: `f${best}:${offset}` };
}

function rotated(pool: readonly Endpoint[], offset: number, count: number): Endpoint[] {
  const n = Math.min(count, pool.length);
  const out = new Array<Endpoint>(n);
  for (let i = 0; i < n; i++) out[i] = pool[(offset + i) % pool.length]!;
  return out;
}
