// One balancer server's (or SNI route's) backends: a member per target with its live counters.
// A source replaces the whole target list; the ping check holds members out; the proxies elect a
// member per new client and count into it. A proxy keeps its member object for the life of the
// connection, so counting into a member that a source has since removed is harmless.

import type { LbBalance } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { electMember, hashString, type Electable, type ElectionCursor } from "./balance.ts";
import { CONNECT_BUCKETS_S, type LbBackendStats, type LbTarget } from "./types.ts";

/** leastbandwidth looks at the bytes of the last one to two of these windows. */
export const BANDWIDTH_WINDOW_MS = 5_000;

/** The identity of a target: "addr:port", IPv6 in brackets. */
export function targetKey(target: { address: string; port: number }): string {
  return formatHostPort({ host: target.address, port: target.port });
}

export class PoolMember implements Electable {
  readonly key: string;
  readonly keyHash: number;
  /** False while the balancer's own ping check holds it out. */
  healthy = true;
  active = 0;
  total = 0;
  errors = 0;
  /** Bytes from client to backend, and back; the proxies add to these directly. */
  bytesIn = 0;
  bytesOut = 0;
  currentWeight = 0;
  private current: LbTarget;
  private readonly connectCounts = new Array<number>(CONNECT_BUCKETS_S.length + 1).fill(0);
  private connectSum = 0;
  private connectCount = 0;
  // Two snapshots of bytes moved: where the previous window and the current one began.
  private windowStart: number;
  private windowBase = 0;
  private prevStart: number;
  private prevBase = 0;

  constructor(target: LbTarget, now: number) {
    this.current = target;
    this.key = targetKey(target);
    this.keyHash = hashString(this.key);
    this.windowStart = now;
    this.prevStart = now;
  }

  get target(): LbTarget {
    return this.current;
  }

  get weight(): number {
    return this.current.weight;
  }

  /** A source re-offered the same address with perhaps another weight. */
  retarget(target: LbTarget): void {
    this.current = target;
  }

  opened(): void {
    this.active++;
    this.total++;
  }

  closed(): void {
    this.active--;
  }

  connectFailed(): void {
    this.errors++;
  }

  /** A connect succeeded after `ms` milliseconds. */
  connected(ms: number): void {
    const seconds = ms / 1000;
    let bucket = CONNECT_BUCKETS_S.findIndex((bound) => seconds <= bound);
    if (bucket < 0) bucket = CONNECT_BUCKETS_S.length;
    this.connectCounts[bucket]!++;
    this.connectSum += seconds;
    this.connectCount++;
  }

  bandwidth(now: number): number {
    const moved = this.bytesIn + this.bytesOut;
    if (now - this.windowStart >= BANDWIDTH_WINDOW_MS) {
      this.prevStart = this.windowStart;
      this.prevBase = this.windowBase;
      this.windowStart = now;
      this.windowBase = moved;
    }
    // Over one to two windows; when nobody asked for longer, over the time since the last snapshot.
    return ((moved - this.prevBase) * 1000) / Math.max(now - this.prevStart, 1);
  }

  stats(): LbBackendStats {
    return {
      address: this.current.address,
      port: this.current.port,
      weight: this.current.weight,
      healthy: this.healthy,
      active: this.active,
      total: this.total,
      errors: this.errors,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      connect: { counts: [...this.connectCounts], sum: this.connectSum, count: this.connectCount },
    };
  }
}

export class Pool {
  private list: PoolMember[] = [];
  private readonly cursor: ElectionCursor = { next: 0 };

  constructor(
    private balance: LbBalance,
    private readonly clock: Clock,
  ) {}

  /** A reload may change the policy; rotation state carries over. */
  setBalance(balance: LbBalance): void {
    this.balance = balance;
  }

  /** Whole list from a source; members of targets that stay keep their counters; removed ones get no new clients. */
  setTargets(targets: readonly LbTarget[]): void {
    const old = new Map(this.list.map((m) => [m.key, m]));
    const next: PoolMember[] = [];
    const seen = new Set<string>();
    for (const target of targets) {
      const key = targetKey(target);
      if (seen.has(key)) continue;
      seen.add(key);
      const member = old.get(key);
      if (member) member.retarget(target);
      next.push(member ?? new PoolMember(target, this.clock.now()));
    }
    this.list = next;
  }

  /** The balancer's own ping check holds a member out (false) or lets it back (true). */
  setHealthy(key: string, healthy: boolean): void {
    const member = this.list.find((m) => m.key === key);
    if (member) member.healthy = healthy;
  }

  /** One member for a new client, skipping those already tried for it; undefined when none is left. */
  elect(clientAddress: string, tried?: ReadonlySet<PoolMember>): PoolMember | undefined {
    const candidates = this.list.filter((m) => m.healthy && m.weight > 0 && !tried?.has(m));
    return electMember(this.balance, candidates, clientAddress, this.cursor, this.clock.now());
  }

  /** Only iphash looks at the client's address; a proxy may skip reading it (a system call) otherwise. */
  usesClientAddress(): boolean {
    return this.balance === "iphash";
  }

  members(): readonly PoolMember[] {
    return this.list;
  }

  stats(): LbBackendStats[] {
    return this.list.map((m) => m.stats());
  }
}
