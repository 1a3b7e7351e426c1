import { describe, expect, test } from "bun:test";
import { decide, type DecisionInputs } from "../../src/health/decide.ts";
import { applyFloor, floorOf } from "../../src/health/floor.ts";
import { FlapDamper } from "../../src/health/flap.ts";

const base: DecisionInputs = { now: 1000, verdict: "unknown", watched: true, verdictDetail: "HTTP 200" };

describe("decide", () => {
  const rows: [string, Partial<DecisionInputs>, string, RegExp][] = [
    ["an override wins over an up verdict", { verdict: "up", override: { healthy: false, reason: "maintenance" } }, "down", /^override: maintenance$/],
    ["an override can force a down backend in", { verdict: "down", override: { healthy: true, reason: "trust me" } }, "up", /^override/],
    ["flap hold-out beats an up verdict", { verdict: "up", heldOutUntil: 5000 }, "down", /^flapping: held out until/],
    ["an expired hold-out no longer counts", { verdict: "up", heldOutUntil: 900 }, "up", /^probe: HTTP 200$/],
    ["own verdict up", { verdict: "up" }, "up", /^probe/],
    ["own verdict down", { verdict: "down", verdictDetail: "connect refused" }, "down", /^probe: connect refused$/],
    ["no verdict yet: the saved state", { saved: { state: "down", reason: "probe: timeout" } }, "down", /^saved before restart: probe: timeout$/],
    ["no verdict and nothing saved: up until checked", {}, "up", /^not checked yet$/],
    ["no health check at all: up", { watched: false }, "up", /^no health check configured$/],
    ["no health check: a saved state (an old override's) does not stick", { watched: false, saved: { state: "down", reason: "override: drain" } }, "up", /^no health check configured$/],
    ["quorum: own down confirmed by enough peers is down", { verdict: "down", verdictDetail: "timeout", quorum: { minPeersAgree: 1, downVoters: ["ow-2"], reachable: 2 }, current: "up" }, "down", /^probe: timeout; confirmed by ow-2$/],
    ["quorum: own down, peers in reach but not agreeing: stays in as suspect", { verdict: "down", verdictDetail: "timeout", quorum: { minPeersAgree: 2, downVoters: ["ow-2"], reachable: 2 }, current: "up" }, "up", /^suspect: own probe timeout, but 1 of 2 peers agree$/],
    ["quorum: too few peers in reach keeps the last agreed state (up)", { verdict: "down", verdictDetail: "timeout", quorum: { minPeersAgree: 1, downVoters: [], reachable: 0 }, current: "up" }, "up", /^no quorum: 0 of 1 peers in reach, last agreed state kept/],
    ["quorum: too few peers in reach keeps the last agreed state (down)", { verdict: "down", verdictDetail: "timeout", quorum: { minPeersAgree: 2, downVoters: ["ow-2"], reachable: 1 }, current: "down" }, "down", /^no quorum: 1 of 2/],
    ["agent draining: out, even with an up verdict", { verdict: "up", agent: { claim: "draining", detail: "cpu 93% > 85%" } }, "down", /^agent: draining \(cpu 93% > 85%\)$/],
    ["own verdict wins over the agent's claim", { verdict: "down", verdictDetail: "refused", agent: { claim: "healthy", detail: "" } }, "down", /^probe: refused$/],
    ["no verdict of its own: the agent's fresh claim", { agent: { claim: "unhealthy", detail: "HTTP 503" } }, "down", /^agent: HTTP 503$/],
    ["no verdict, stale agent: the state stays", { agent: { claim: "unknown", detail: "" }, current: "down" }, "down", /^agent: no heartbeat within stale.threshold/],
    ["quorum: own up needs no one", { verdict: "up", quorum: { minPeersAgree: 2, downVoters: ["ow-2", "ow-3"], reachable: 2 }, current: "down" }, "up", /^probe: HTTP 200$/],
  ];
  for (const [name, inputs, state, reason] of rows) {
    test(name, () => {
      const d = decide({ ...base, ...inputs });
      expect(d.state).toBe(state as "up" | "down");
      expect(d.reason).toMatch(reason);
    });
  }

  test("a backend kept in for want of agreement is suspect, and not probe evidence for the floor", () => {
    const kept = decide({ ...base, verdict: "down", quorum: { minPeersAgree: 1, downVoters: [], reachable: 1 }, current: "up" });
    expect(kept).toMatchObject({ state: "up", suspect: "disputed", outByProbe: false });
    expect(decide({ ...base, verdict: "down", quorum: { minPeersAgree: 1, downVoters: [], reachable: 0 }, current: "up" }).suspect).toBe("no quorum");
    expect(decide({ ...base, verdict: "down", quorum: { minPeersAgree: 1, downVoters: ["p"], reachable: 1 }, current: "up" }).suspect).toBeUndefined();
  });

  test("only probe evidence is eligible for the floor", () => {
    expect(decide({ ...base, verdict: "down" }).outByProbe).toBe(true);
    expect(decide({ ...base, override: { healthy: false, reason: "x" } }).outByProbe).toBe(false);
  });
});

describe("min_healthy floor", () => {
  const down = { state: "down" as const, reason: "probe: refused", outByProbe: true };
  const up = { state: "up" as const, reason: "probe: ok", outByProbe: false };
  const overridden = { state: "down" as const, reason: "override: x", outByProbe: false };

  test("count and percent", () => {
    expect(floorOf({ min_healthy: { count: 2 } }, 5)).toBe(2);
    expect(floorOf({ min_healthy: { percent: 50 } }, 5)).toBe(3);
    expect(floorOf({ min_healthy: { count: 9 } }, 3)).toBe(3);
    expect(floorOf({}, 3)).toBe(0);
  });

  test("keeps probe-downed backends in, those in the answer now first, and says so", () => {
    const out = applyFloor([down, down, up], 2, (i) => i === 1);
    expect(out.map((d) => d.state)).toEqual(["down", "up", "up"]);
    expect(out[1]!.reason).toBe("kept in by min_healthy (2); probe: refused");
    expect(out[1]!.keptByFloor).toBe(true);
    expect(applyFloor([down, down, up], 2, () => false).map((d) => d.state)).toEqual(["up", "down", "up"]);
  });

  test("never overrules an override", () => {
    expect(applyFloor([overridden, overridden], 2, () => true).map((d) => d.state)).toEqual(["down", "down"]);
  });
});

describe("flap damping", () => {
  test("max_changes within the window start a hold-down from the last change", () => {
    const f = new FlapDamper({ max_changes: 3, window: 60_000, hold_down: 120_000 });
    expect(f.recordChange(0)).toBeUndefined();
    expect(f.recordChange(10_000)).toBeUndefined();
    expect(f.recordChange(20_000)).toBe(140_000);
    expect(f.heldOutUntil(139_999)).toBe(140_000);
    expect(f.heldOutUntil(140_000)).toBeUndefined();
  });

  test("changes spread wider than the window do not count", () => {
    const f = new FlapDamper({ max_changes: 3, window: 10_000, hold_down: 120_000 });
    for (const t of [0, 20_000, 40_000, 60_000]) expect(f.recordChange(t)).toBeUndefined();
    expect(f.recentChanges(60_000)).toBe(1);
  });

  test("max_changes 0 turns damping off", () => {
    const f = new FlapDamper({ max_changes: 0, window: 10_000, hold_down: 10_000 });
    for (let t = 0; t < 10; t++) expect(f.recordChange(t)).toBeUndefined();
  });
});
