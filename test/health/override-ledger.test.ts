import { expect, test } from "bun:test";
import { OverrideLedger, TOMBSTONE_MS } from "../../src/health/override-ledger.ts";
import type { OverrideChange } from "../../src/health/engine.ts";
import { decodeOverrides, encodeOverrides } from "../../src/cluster/override-messages.ts";

const set = (address: string, at: number, healthy = false): Extract<OverrideChange, { op: "set" }> => ({
  op: "set",
  override: { service: "app.t.test", address, healthy, reason: `r${at}`, createdAt: at },
  at,
});
const clear = (address: string, at: number): OverrideChange => ({ op: "clear", service: "app.t.test", address, at });

test("the latest change wins, whatever order the nodes hear them in", () => {
  const changes = [set("192.0.2.1", 10), clear("192.0.2.1", 20), set("192.0.2.1", 15, true), set("192.0.2.2", 5)];
  const a = new OverrideLedger();
  const b = new OverrideLedger();
  a.merge(changes);
  b.merge([...changes].reverse());
  const sorted = (l: OverrideLedger) => l.snapshot(30).map((c) => JSON.stringify(c)).sort();
  expect(sorted(a)).toEqual(sorted(b));
  expect(a.snapshot(30).find((c) => c.op === "clear") as OverrideChange).toEqual(clear("192.0.2.1", 20));
});

test("merge returns only what is newer than what this node knows", () => {
  const ledger = new OverrideLedger();
  ledger.record(set("192.0.2.1", 100));
  expect(ledger.merge([set("192.0.2.1", 50), clear("192.0.2.1", 100)])).toEqual([]);
  expect(ledger.merge([clear("192.0.2.1", 101)])).toEqual([clear("192.0.2.1", 101)]);
});

test("expired overrides and old clears leave the snapshot", () => {
  const ledger = new OverrideLedger();
  ledger.merge([{ ...set("192.0.2.1", 0), override: { ...set("192.0.2.1", 0).override, expiresAt: 1000 } } as OverrideChange, clear("192.0.2.2", 0)]);
  expect(ledger.snapshot(999)).toHaveLength(2);
  expect(ledger.snapshot(1000)).toHaveLength(1);
  expect(ledger.snapshot(TOMBSTONE_MS + 1)).toEqual([]);
});

test("batches fit the packet, survive the trip, and malformed input is refused", () => {
  const many = Array.from({ length: 40 }, (_, i) => set(`192.0.2.${i}`, i));
  const payloads = encodeOverrides(many, 1350);
  expect(payloads.length).toBeGreaterThan(1);
  const back = payloads.flatMap((p) => {
    const d = decodeOverrides(p);
    if (!d.ok) throw new Error(d.reason);
    return d.changes;
  });
  expect(back).toEqual(many);
  for (const bad of ['{"k":"overrides","v":1,"changes":[{"op":"set","at":1}]}', '{"k":"overrides","v":9,"changes":[]}', "nope"]) {
    expect(decodeOverrides(new TextEncoder().encode(bad)).ok).toBe(false);
  }
});
