import { describe, expect, test } from "bun:test";
import { Awareness } from "../../src/cluster/awareness.ts";
import { Suspicion } from "../../src/cluster/suspicion.ts";
import { expectedConfirmations, LAN_DEFAULTS, pushPullIntervalMs, retransmitLimit, suspicionMinMs, validateTuning } from "../../src/cluster/tuning.ts";

describe("suspicion timeout", () => {
  test("min is suspicion_mult × max(1, log10 n) × probe_interval, as memberlist's suspicionTimeout", () => {
    expect(suspicionMinMs(LAN_DEFAULTS, 1)).toBe(4_000);
    expect(suspicionMinMs(LAN_DEFAULTS, 5)).toBe(4_000);
    expect(suspicionMinMs(LAN_DEFAULTS, 10)).toBe(4_000);
    expect(suspicionMinMs(LAN_DEFAULTS, 30)).toBe(5_908);
    expect(suspicionMinMs(LAN_DEFAULTS, 100)).toBe(8_000);
  });

  test("expects suspicion_mult − 2 confirmations, or none when fewer members could give them", () => {
    expect(expectedConfirmations(LAN_DEFAULTS, 3)).toBe(0);
    expect(expectedConfirmations(LAN_DEFAULTS, 4)).toBe(2);
    expect(expectedConfirmations(LAN_DEFAULTS, 30)).toBe(2);
  });

  test("starts at max and falls to min by log(c + 1) / log(k + 1) as confirmations arrive", () => {
    const s = new Suspicion("n1", 3, 1_000, 6_000, 100_000);
    expect(s.deadline).toBe(106_000);
    expect(s.confirm("n2")).toBe(true);
    expect(s.deadline).toBe(100_000 + 3_500); // 6 − 5 × log 2 / log 4
    expect(s.confirm("n3")).toBe(true);
    expect(s.deadline).toBe(100_000 + 2_037);
    expect(s.confirm("n4")).toBe(true);
    expect(s.deadline).toBe(101_000);
  });

  test("counts each member once, never the accuser, and nothing past k", () => {
    const s = new Suspicion("n1", 2, 4_000, 24_000, 0);
    expect(s.confirm("n1")).toBe(false);
    expect(s.confirm("n2")).toBe(true);
    expect(s.confirm("n2")).toBe(false);
    expect(s.confirm("n3")).toBe(true);
    expect(s.confirm("n4")).toBe(false);
    expect(s.confirmations).toBe(2);
    expect(s.deadline).toBe(4_000);
  });

  test("with no confirmations expected it is min from the start", () => {
    expect(new Suspicion("n1", 0, 4_000, 24_000, 10).deadline).toBe(4_010);
  });
});

describe("tuning", () => {
  test("retransmits retransmit_mult × ceil(log10(n + 1)) times", () => {
    expect(retransmitLimit(LAN_DEFAULTS, 3)).toBe(4);
    expect(retransmitLimit(LAN_DEFAULTS, 9)).toBe(4);
    expect(retransmitLimit(LAN_DEFAULTS, 10)).toBe(8);
    expect(retransmitLimit(LAN_DEFAULTS, 30)).toBe(8);
  });

  test("push-pull slows down past 32 members", () => {
    expect(pushPullIntervalMs(LAN_DEFAULTS, 32)).toBe(30_000);
    expect(pushPullIntervalMs(LAN_DEFAULTS, 33)).toBe(60_000);
    expect(pushPullIntervalMs(LAN_DEFAULTS, 64)).toBe(60_000);
    expect(pushPullIntervalMs(LAN_DEFAULTS, 65)).toBe(90_000);
  });

  test("the defaults are memberlist's LAN defaults and validate", () => {
    expect(LAN_DEFAULTS).toMatchObject({
      probe_interval: 1_000, probe_timeout: 500, indirect_checks: 3, suspicion_mult: 4, suspicion_max_timeout_mult: 6,
      retransmit_mult: 4, gossip_interval: 200, gossip_nodes: 3, gossip_to_the_dead_time: 30_000, push_pull_interval: 30_000,
      stream_timeout: 10_000, awareness_max_multiplier: 8, packet_bytes: 1_400,
    });
    expect(() => validateTuning(LAN_DEFAULTS)).not.toThrow();
  });

  test("validation names the bad setting", () => {
    expect(() => validateTuning({ ...LAN_DEFAULTS, probe_timeout: 1_000 })).toThrow("probe_timeout (1000) must be shorter than probe_interval");
    expect(() => validateTuning({ ...LAN_DEFAULTS, gossip_nodes: 0 })).toThrow("gossip_nodes: must be positive");
    expect(() => validateTuning({ ...LAN_DEFAULTS, packet_bytes: 100 })).toThrow("packet_bytes");
  });
});

describe("awareness", () => {
  test("scales timeouts by score + 1, clamped to [0, max − 1]", () => {
    const a = new Awareness(8);
    a.applyDelta(-1);
    expect(a.scale(500)).toBe(500);
    a.applyDelta(3);
    expect(a.scale(500)).toBe(2_000);
    a.applyDelta(100);
    expect(a.score).toBe(7);
    expect(a.scale(1_000)).toBe(8_000);
  });
});
