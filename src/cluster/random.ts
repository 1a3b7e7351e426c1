// Randomness the gossip layer can be handed: production passes Math.random, tests a seeded
// generator so a simulated cluster behaves the same on every run.

export type Random = () => number;

/** mulberry32: a small, fast, well-mixed 32-bit generator; plenty for choosing peers. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}

/** Fisher–Yates, in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Up to k distinct items that pass the filter, chosen uniformly. */
export function pickRandom<T>(items: readonly T[], k: number, random: Random, accept: (item: T) => boolean = () => true): T[] {
  if (k <= 0) return [];
  return shuffle(items.filter(accept), random).slice(0, k);
}
