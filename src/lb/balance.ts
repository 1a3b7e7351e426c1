// Election: one small function per balance policy over the members still eligible for a client
// (gobetween's habit). The pool filters out unhealthy, weight-0 and already-tried members first;
// these functions only choose among what is left and keep their rotation state in the members
// and in a cursor the pool owns, so they stay free of sockets and timers.

import type { LbBalance } from "../config/types.ts";

/** What a policy may read about a member. */
export interface Electable {
  readonly key: string;
  readonly weight: number;
  /** Open connections now. */
  readonly active: number;
  /** A hash of the key, computed once (see hashString), for iphash. */
  readonly keyHash: number;
  /** Smooth weighted round-robin state, owned by the weight policy. */
  currentWeight: number;
  /** Bytes per second, both directions, over the recent window ending at `now`. */
  bandwidth(now: number): number;
}

/** Rotation state that outlives one election: roundrobin's position and the tie-breaker's. */
export interface ElectionCursor {
  next: number;
}

/** Picks one of `candidates` (all eligible, none empty-weighted); undefined only when the list is empty. */
export function electMember<T extends Electable>(
  balance: LbBalance,
  candidates: readonly T[],
  clientAddress: string,
  cursor: ElectionCursor,
  now: number,
): T | undefined {
  if (candidates.length === 0) return undefined;
  switch (balance) {
    case "weight":
      return electSmoothWeighted(candidates);
    case "roundrobin":
      return candidates[cursor.next++ % candidates.length];
    case "leastconn":
      return electLeast(candidates, (m) => m.active, cursor);
    case "iphash":
      return electRendezvous(candidates, clientAddress);
    case "leastbandwidth":
      return electLeast(candidates, (m) => m.bandwidth(now), cursor);
  }
}

/**
 * nginx's smooth weighted round-robin: every member gains its weight, the richest is chosen and pays
 * the total. Weights 5:1:1 give a a b a c a a — the exact ratio over each cycle, spread out.
 */
function electSmoothWeighted<T extends Electable>(candidates: readonly T[]): T {
  let total = 0;
  let best = candidates[0]!;
  for (const member of candidates) {
    member.currentWeight += member.weight;
    total += member.weight;
    if (member.currentWeight > best.currentWeight) best = member;
  }
  best.currentWeight -= total;
  return best;
}

/** The member with the lowest score; ties rotate so equal members share the load rather than the first taking it all. */
function electLeast<T extends Electable>(candidates: readonly T[], score: (m: T) => number, cursor: ElectionCursor): T {
  let lowest = Infinity;
  let ties = 0;
  for (const member of candidates) {
    const s = score(member);
    if (s < lowest) {
      lowest = s;
      ties = 1;
    } else if (s === lowest) ties++;
  }
  let pick = cursor.next++ % ties;
  for (const member of candidates) {
    if (score(member) !== lowest) continue;
    if (pick === 0) return member;
    pick--;
  }
  // Unreachable: `ties` members scored `lowest` in the first pass.
  return candidates[0]!;
}

/**
 * Weighted rendezvous (highest random weight) hashing: every (client, member) pair gets a score and
 * the best wins, so a client sticks to its member while the set is unchanged, and a member leaving
 * moves only its own clients (everyone else's best is still there).
 */
function electRendezvous<T extends Electable>(candidates: readonly T[], clientAddress: string): T {
  const clientHash = hashString(clientAddress);
  let best = candidates[0]!;
  let bestScore = -Infinity;
  for (const member of candidates) {
    // A uniform number in (0, 1) from the pair; -w / ln(u) makes a member's share proportional to its weight.
    const unit = (mix32(clientHash ^ Math.imul(member.keyHash, 0x9e3779b1)) + 1) / 4294967297;
    const score = -member.weight / Math.log(unit);
    if (score > bestScore) {
      bestScore = score;
      best = member;
    }
  }
  return best;
}

/** FNV-1a over UTF-16 code units, finished with mix32 so nearby strings land far apart. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word; result unsigned. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
