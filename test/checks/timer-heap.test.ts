import { describe, expect, test } from "bun:test";
import { RecentSamples } from "../../src/checks/recent-samples.ts";
import { DueHeap } from "../../src/checks/timer-heap.ts";
import { seededRandom } from "./fakes.ts";

describe("DueHeap", () => {
  test("pops in due order, whatever the push order", () => {
    const random = seededRandom(7);
    const heap = new DueHeap<number>();
    const dues = Array.from({ length: 500 }, () => Math.floor(random() * 10_000));
    for (const due of dues) heap.push(due, due);
    const popped: number[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) popped.push(top.due);
    expect(popped).toEqual([...dues].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });

  test("equal due times come out first in, first out", () => {
    const heap = new DueHeap<string>();
    for (const name of ["a", "b", "c", "d", "e"]) heap.push(100, name);
    heap.push(50, "early");
    const order: string[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) order.push(top.value);
    expect(order).toEqual(["early", "a", "b", "c", "d", "e"]);
  });

  test("peek shows the earliest and leaves it", () => {
    const heap = new DueHeap<string>();
    expect(heap.peek()).toBeUndefined();
    heap.push(30, "late");
    heap.push(10, "soon");
    expect(heap.peek()).toMatchObject({ due: 10, value: "soon" });
    expect(heap.size).toBe(2);
  });
});

describe("RecentSamples", () => {
  test("percentiles by nearest rank over the last N values only", () => {
    const samples = new RecentSamples(100);
    expect(samples.percentile(99)).toBe(0);
    for (let i = 0; i < 100; i++) samples.record(1000);
    for (let i = 1; i <= 100; i++) samples.record(i);
    expect(samples.count).toBe(100);
    expect(samples.percentile(50)).toBe(50);
    expect(samples.percentile(99)).toBe(99);
    expect(samples.percentile(100)).toBe(100);
  });
});
