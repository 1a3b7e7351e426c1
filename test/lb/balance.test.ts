import { describe, expect, test } from "bun:test";
import { electMember, hashString, type Electable } from "../../src/lb/balance.ts";
import type { LbBalance } from "../../src/config/types.ts";

class Member implements Electable {
  currentWeight = 0;
  readonly keyHash: number;
  constructor(
    readonly key: string,
    readonly weight = 1,
    public active = 0,
    public rate = 0,
  ) {
    this.keyHash = hashString(key);
  }
  bandwidth(): number {
    return this.rate;
  }
}

function picks(balance: LbBalance, members: Member[], count: number, client = (i: number) => `10.0.0.${i % 250}`): string[] {
  const cursor = { next: 0 };
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(electMember(balance, members, client(i), cursor, 0)!.key);
  return out;
}

function tally(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

describe("weight", () => {
  test("smooth weighted round-robin spreads 5:1:1 as a a b a c a a", () => {
    const members = [new Member("a", 5), new Member("b", 1), new Member("c", 1)];
    expect(picks("weight", members, 14).join(" ")).toBe("a a b a c a a a a b a c a a");
  });

  test("the ratio is exact over whole cycles", () => {
    const members = [new Member("a", 3), new Member("b", 2), new Member("c", 1)];
    expect(tally(picks("weight", members, 600))).toEqual({ a: 300, b: 200, c: 100 });
  });
});

test("roundrobin visits members in turn", () => {
  const members = [new Member("a"), new Member("b"), new Member("c")];
  expect(picks("roundrobin", members, 6).join(" ")).toBe("a b c a b c");
});

describe("leastconn", () => {
  test("picks the member with the fewest open connections", () => {
    const members = [new Member("a", 1, 5), new Member("b", 1, 2), new Member("c", 1, 7)];
    expect(picks("leastconn", members, 3)).toEqual(["b", "b", "b"]);
  });

  test("ties rotate instead of always going to the first", () => {
    const members = [new Member("a", 1, 1), new Member("b", 1, 0), new Member("c", 1, 0)];
    expect(tally(picks("leastconn", members, 10))).toEqual({ b: 5, c: 5 });
  });
});

describe("iphash", () => {
  const members = () => ["a", "b", "c", "d", "e"].map((k) => new Member(`10.1.0.1:${k.charCodeAt(0)}`));
  const clients = Array.from({ length: 2000 }, (_, i) => `192.0.${i >> 8}.${i & 255}`);
  const assign = (list: Member[]) => new Map(clients.map((c) => [c, electMember("iphash", list, c, { next: 0 }, 0)!.key]));

  test("a client always gets the same member while the set is unchanged", () => {
    const first = assign(members());
    expect(assign(members())).toEqual(first);
  });

  test("clients spread over every member", () => {
    const counts = Object.values(tally([...assign(members()).values()]));
    expect(counts).toHaveLength(5);
    for (const c of counts) expect(c).toBeGreaterThan(2000 / 5 * 0.8);
  });

  test("a member leaving moves only its own clients", () => {
    const all = members();
    const before = assign(all);
    const gone = all[2]!.key;
    const after = assign(all.filter((m) => m.key !== gone));
    for (const client of clients) {
      if (before.get(client) !== gone) expect(after.get(client)).toBe(before.get(client)!);
      else expect(after.get(client)).not.toBe(gone);
    }
  });

  test("shares follow the weights", () => {
    const list = [new Member("x:1", 3), new Member("y:1", 1)];
    const counts = tally(clients.map((c) => electMember("iphash", list, c, { next: 0 }, 0)!.key));
    expect(counts["x:1"]! / counts["y:1"]!).toBeGreaterThan(2.4);
    expect(counts["x:1"]! / counts["y:1"]!).toBeLessThan(3.6);
  });
});

test("leastbandwidth picks the member moving the fewest bytes per second", () => {
  const members = [new Member("a", 1, 0, 5000), new Member("b", 1, 9, 100), new Member("c", 1, 0, 800)];
  expect(picks("leastbandwidth", members, 2)).toEqual(["b", "b"]);
});

test("no candidates, no member", () => {
  for (const balance of ["weight", "roundrobin", "leastconn", "iphash", "leastbandwidth"] as const) {
    expect(electMember(balance, [], "10.0.0.1", { next: 0 }, 0)).toBeUndefined();
  }
});
