import { expect, test } from "bun:test";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { Heartbeats } from "../../src/agent/heartbeat.ts";
import type { SignedClaim } from "../../src/agent/claims.ts";

function setup() {
  const clock = new ManualClock();
  const lines: { msg: string }[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => lines.push(JSON.parse(line)) });
  const published: { seq: number; claim: SignedClaim }[] = [];
  const state = { overwatches: 1, broken: false };
  let seqNow = 0;
  const beats = new Heartbeats({
    clock,
    log,
    intervalMs: 10_000,
    missedThreshold: 2,
    claims: (seq) => {
      if (state.broken) throw new Error("bad backend");
      seqNow = seq;
      return [{ key: "claim:web:0", payload: Uint8Array.of(seq & 0xff) }];
    },
    overwatchesInReach: () => state.overwatches,
    publish: (claim) => published.push({ seq: seqNow, claim }),
  });
  return { clock, lines, published, state, beats };
}

test("a heartbeat at start, then every interval, with a rising seq", () => {
  const s = setup();
  s.beats.start();
  s.clock.advance(25_000);
  expect(s.published.length).toBe(3);
  const seqs = s.published.map((p) => p.seq);
  expect(seqs[0]).toBe(s.clock.now() - 25_000);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(s.beats.counts).toEqual({ sent: 3, failed: 0 });
  s.beats.stop();
  expect(s.clock.pendingTimers()).toBe(0);
});

test("soon() sends one extra heartbeat for several changes, and only once started", async () => {
  const s = setup();
  s.beats.soon();
  await Promise.resolve();
  expect(s.published.length).toBe(0);
  s.beats.start();
  s.beats.soon();
  s.beats.soon();
  await Promise.resolve();
  expect(s.published.length).toBe(2);
  // The regular beat follows the last one by a whole interval.
  s.clock.advance(9_999);
  expect(s.published.length).toBe(2);
  s.clock.advance(1);
  expect(s.published.length).toBe(3);
});

test("heartbeats with no overwatch in reach, or that cannot be built, fail; the log says so once at the threshold", () => {
  const s = setup();
  s.state.overwatches = 0;
  s.beats.start();
  s.clock.advance(10_000);
  s.state.broken = true;
  s.clock.advance(10_000);
  expect(s.beats.counts).toEqual({ sent: 0, failed: 3 });
  expect(s.lines.filter((l) => l.msg.startsWith("heartbeats are not reaching any overwatch")).length).toBe(1);
  expect(s.lines.some((l) => l.msg === "heartbeat: cannot build claims")).toBe(true);
  s.state = Object.assign(s.state, { overwatches: 1, broken: false });
  s.clock.advance(10_000);
  expect(s.beats.counts).toEqual({ sent: 1, failed: 3 });
  expect(s.lines.some((l) => l.msg === "heartbeats reach the overwatches again")).toBe(true);
});
