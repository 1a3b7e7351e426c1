import { expect, test } from "bun:test";
import { PeerVerdicts } from "../../src/health/peer-verdicts.ts";

test("a tally counts fresh peers, and those of them that see the backend down", () => {
  const peers = new PeerVerdicts(15_000);
  peers.update("ow-3", ["app|192.0.2.1|80"], 1_000);
  peers.update("ow-2", ["app|192.0.2.1|80", "app|192.0.2.2|80"], 10_000);
  expect(peers.tally("app|192.0.2.1|80", 12_000)).toEqual({ downVoters: ["ow-2", "ow-3"], reachable: 2 });
  expect(peers.tally("app|192.0.2.2|80", 12_000)).toEqual({ downVoters: ["ow-2"], reachable: 2 });
  // ow-3's report is past the window at 16,001: it neither votes nor counts as reachable.
  expect(peers.tally("app|192.0.2.1|80", 16_001)).toEqual({ downVoters: ["ow-2"], reachable: 1 });
  expect(peers.nextExpiry(12_000)).toBe(16_000);
});

test("a new report replaces the old one; a forgotten peer counts no more", () => {
  const peers = new PeerVerdicts(15_000);
  peers.update("ow-2", ["k1"], 0);
  peers.update("ow-2", [], 1_000);
  expect(peers.tally("k1", 2_000)).toEqual({ downVoters: [], reachable: 1 });
  expect(peers.forget("ow-2")).toBe(true);
  expect(peers.tally("k1", 2_000)).toEqual({ downVoters: [], reachable: 0 });
  expect(peers.nextExpiry(2_000)).toBeUndefined();
});
