import { describe, expect, test } from "bun:test";
import { BroadcastQueue } from "../../src/cluster/broadcast-queue.ts";

const bytes = (label: string, size = label.length) => new TextEncoder().encode(label.padEnd(size, "."));
const text = (parts: Uint8Array[]) => parts.map((p) => new TextDecoder().decode(p).replace(/\.+$/, ""));

describe("BroadcastQueue", () => {
  test("sends each broadcast `limit` times, then lets it go and says so", () => {
    const q = new BroadcastQueue(100);
    let done = 0;
    q.queue(bytes("a"), { onDone: () => done++ });
    for (let i = 0; i < 3; i++) expect(text(q.take(100, 2, 3))).toEqual(["a"]);
    expect(done).toBe(1);
    expect(q.take(100, 2, 3)).toEqual([]);
    expect(q.size).toBe(0);
  });

  test("the least sent go first, then the larger, then the newer", () => {
    const q = new BroadcastQueue(100);
    q.queue(bytes("old", 4));
    q.take(100, 0, 10); // "old" has now been sent once
    q.queue(bytes("small", 5));
    q.queue(bytes("big", 9));
    q.queue(bytes("newer", 5));
    expect(text(q.take(100, 0, 10))).toEqual(["big", "newer", "small", "old"]);
  });

  test("fills the byte budget, counting the per-message overhead, and skips what does not fit", () => {
    const q = new BroadcastQueue(100);
    q.queue(bytes("a", 10));
    q.queue(bytes("b", 30));
    q.queue(bytes("c", 5));
    expect(text(q.take(20, 2, 10))).toEqual(["a", "c"]);
    expect(text(q.take(40, 2, 10))).toEqual(["b", "c"]);
  });

  test("a broadcast with the key of a queued one replaces it", () => {
    const q = new BroadcastQueue(100);
    let replaced = false;
    q.queue(bytes("alive n1 @1"), { key: "member:n1", onDone: () => (replaced = true) });
    q.queue(bytes("alive n2 @1"), { key: "member:n2" });
    q.queue(bytes("alive n1 @2"), { key: "member:n1" });
    expect(replaced).toBe(true);
    expect(text(q.take(1_000, 2, 10)).sort()).toEqual(["alive n1 @2", "alive n2 @1"]);
  });

  test("past the depth limit the most sent are pruned", () => {
    const q = new BroadcastQueue(2);
    q.queue(bytes("a"));
    q.take(100, 0, 10);
    q.queue(bytes("b"));
    expect(q.queue(bytes("c"))).toBe(1);
    expect(text(q.take(100, 0, 10)).sort()).toEqual(["b", "c"]);
  });
});
