import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/lib/clock.ts";
import { BANDWIDTH_WINDOW_MS, Pool, type PoolMember } from "../../src/lb/pool.ts";
import { CONNECT_BUCKETS_S, type LbTarget } from "../../src/lb/types.ts";

const target = (address: string, port = 80, weight = 1): LbTarget => ({ address, port, weight });

function electAll(pool: Pool, times: number): string[] {
  return Array.from({ length: times }, () => pool.elect("192.0.2.1")?.key ?? "-");
}

describe("Pool targets", () => {
  test("members are keyed addr:port, IPv6 in brackets, duplicates once", () => {
    const pool = new Pool("roundrobin", new ManualClock());
    pool.setTargets([target("10.0.0.1"), target("2001:db8::1", 443), target("10.0.0.1")]);
    expect(pool.members().map((m) => m.key)).toEqual(["10.0.0.1:80", "[2001:db8::1]:443"]);
  });

  test("a target that stays keeps its member and counters; a new weight applies", () => {
    const pool = new Pool("roundrobin", new ManualClock());
    pool.setTargets([target("10.0.0.1"), target("10.0.0.2")]);
    const first = pool.members()[0]!;
    first.opened();
    first.bytesIn += 100;
    pool.setTargets([target("10.0.0.3"), target("10.0.0.1", 80, 7)]);
    const same = pool.members().find((m) => m.key === "10.0.0.1:80")!;
    expect(same).toBe(first);
    expect(same.stats()).toMatchObject({ active: 1, total: 1, bytesIn: 100, weight: 7 });
    expect(pool.members().map((m) => m.key)).toEqual(["10.0.0.3:80", "10.0.0.1:80"]);
  });

  test("a removed target gets no new clients, and counting into it stays harmless", () => {
    const pool = new Pool("roundrobin", new ManualClock());
    pool.setTargets([target("10.0.0.1"), target("10.0.0.2")]);
    const gone = pool.members()[1]!;
    pool.setTargets([target("10.0.0.1")]);
    expect(new Set(electAll(pool, 4))).toEqual(new Set(["10.0.0.1:80"]));
    gone.closed();
    expect(pool.stats()).toHaveLength(1);
  });
});

describe("Pool.elect", () => {
  test("skips members held out by the ping check until they are let back", () => {
    const pool = new Pool("roundrobin", new ManualClock());
    pool.setTargets([target("10.0.0.1"), target("10.0.0.2")]);
    pool.setHealthy("10.0.0.2:80", false);
    expect(new Set(electAll(pool, 4))).toEqual(new Set(["10.0.0.1:80"]));
    expect(pool.stats()[1]!.healthy).toBe(false);
    pool.setHealthy("10.0.0.2:80", true);
    expect(new Set(electAll(pool, 4))).toEqual(new Set(["10.0.0.1:80", "10.0.0.2:80"]));
  });

  test("never elects weight 0", () => {
    const pool = new Pool("weight", new ManualClock());
    pool.setTargets([target("10.0.0.1", 80, 0), target("10.0.0.2", 80, 2)]);
    expect(new Set(electAll(pool, 10))).toEqual(new Set(["10.0.0.2:80"]));
    pool.setTargets([target("10.0.0.1", 80, 0)]);
    expect(pool.elect("192.0.2.1")).toBeUndefined();
  });

  test("skips members already tried for this client; none left is undefined", () => {
    const pool = new Pool("iphash", new ManualClock());
    pool.setTargets([target("10.0.0.1"), target("10.0.0.2"), target("10.0.0.3")]);
    const tried = new Set<PoolMember>();
    for (let i = 0; i < 3; i++) {
      const member = pool.elect("192.0.2.1", tried)!;
      expect(tried.has(member)).toBe(false);
      tried.add(member);
    }
    expect(pool.elect("192.0.2.1", tried)).toBeUndefined();
  });

  test("only iphash needs the client's address", () => {
    for (const balance of ["weight", "roundrobin", "leastconn", "leastbandwidth"] as const) {
      expect(new Pool(balance, new ManualClock()).usesClientAddress()).toBe(false);
    }
    expect(new Pool("iphash", new ManualClock()).usesClientAddress()).toBe(true);
  });

  test("setBalance switches the policy", () => {
    const pool = new Pool("weight", new ManualClock());
    pool.setTargets([target("10.0.0.1", 80, 3), target("10.0.0.2", 80, 1)]);
    expect(electAll(pool, 4).sort()).toEqual(["10.0.0.1:80", "10.0.0.1:80", "10.0.0.1:80", "10.0.0.2:80"]);
    pool.setBalance("roundrobin");
    expect(electAll(pool, 4).sort()).toEqual(["10.0.0.1:80", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.2:80"]);
  });
});

describe("leastbandwidth over the recent window", () => {
  test("prefers the quiet member, and forgets old traffic after the window", () => {
    const clock = new ManualClock();
    const pool = new Pool("leastbandwidth", clock);
    pool.setTargets([target("10.0.0.1"), target("10.0.0.2")]);
    const [busy, quiet] = pool.members() as PoolMember[];
    busy!.bytesOut += 1_000_000;
    quiet!.bytesOut += 1_000;
    clock.advance(1_000);
    expect(pool.elect("192.0.2.1")).toBe(quiet);
    expect(busy!.bandwidth(clock.now())).toBe(1_000_000);

    // Two windows later only new bytes count: now `quiet` is the busy one.
    clock.advance(BANDWIDTH_WINDOW_MS);
    pool.elect("192.0.2.1");
    quiet!.bytesIn += 5_000_000;
    clock.advance(BANDWIDTH_WINDOW_MS);
    expect(pool.elect("192.0.2.1")).toBe(busy);
  });
});

describe("PoolMember counters", () => {
  test("opened/closed, connect failures and the connect histogram", () => {
    const pool = new Pool("roundrobin", new ManualClock());
    pool.setTargets([target("10.0.0.1")]);
    const m = pool.members()[0]!;
    m.opened();
    m.opened();
    m.closed();
    m.connectFailed();
    m.connected(0.3); // 0.0003 s: first bucket
    m.connected(3); // 0.003 s: the 0.005 bucket
    m.connected(60_000); // beyond the last bound: +Inf
    const s = m.stats();
    expect(s).toMatchObject({ active: 1, total: 2, errors: 1, healthy: true, address: "10.0.0.1", port: 80 });
    expect(s.connect.counts).toHaveLength(CONNECT_BUCKETS_S.length + 1);
    expect(s.connect.counts[0]).toBe(1);
    expect(s.connect.counts[CONNECT_BUCKETS_S.indexOf(0.005)]).toBe(1);
    expect(s.connect.counts[CONNECT_BUCKETS_S.length]).toBe(1);
    expect(s.connect.count).toBe(3);
    expect(s.connect.sum).toBeCloseTo(60.0033, 6);
  });
});
