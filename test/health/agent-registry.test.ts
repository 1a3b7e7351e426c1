import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeClaim, encodeClaim, type Claim, type ClaimSigner } from "../../src/cluster/claims.ts";
import {
  AgentRegistry, type AgentClaim, type AgentClaimBackend, type AgentRegistryConfig, type AgentRegistryEvent,
} from "../../src/health/agent-registry.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import type { Agents } from "../../src/store/agents.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const config: AgentRegistryConfig = {
  agent_tokens: { myapp: "myapp-token", otherapp: "other-token" },
  stale: { threshold: 30 * SECOND, remove_after: 5 * MINUTE },
};

function keyPair(): ClaimSigner {
  const { privateKey } = generateKeyPairSync("ed25519");
  const publicKey = new Uint8Array(Buffer.from(privateKey.export({ format: "jwk" }).x!, "base64url"));
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}
const b64 = (key: Uint8Array) => Buffer.from(key).toString("base64");

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const keyA = keyPair();
const keyB = keyPair();

const web = (address: string, status: AgentClaimBackend["status"] = "healthy", more: Partial<AgentClaimBackend> = {}): AgentClaimBackend => ({
  address, port: 8080, weight: 100, status, detail: `HTTP check: ${status}`, ...more,
});

function claim(agentId: string, key: ClaimSigner, seq: number, backends: AgentClaimBackend[], more: Partial<AgentClaim> = {}): AgentClaim {
  return { agentId, service: "myapp", token: "myapp-token", region: "us-east", publicKey: key.publicKey, seq, time: seq, part: 0, parts: 1, backends, ...more };
}

let tmp: string;
let store: Store;
let clock: ManualClock;
let registry: AgentRegistry;
let events: AgentRegistryEvent[];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vigil-registry-"));
  store = openStore(tmp);
  clock = new ManualClock(1_700_000_000_000);
  registry = new AgentRegistry({ pins: store.agents, config });
  events = [];
  registry.onEvent((e) => events.push(e));
});
afterEach(() => {
  store.close();
  rmSync(tmp, { recursive: true, force: true });
});

const types = () => events.map((e) => e.type);
const take = () => {
  const taken = events;
  events = [];
  return taken;
};
const now = () => clock.now();
const statuses = () => Object.fromEntries([...registry.backends(now())].map(([service, list]) => [service, list.map((b) => `${b.address}:${b.port} ${b.claim}`)]));

describe("agent registry: service tokens", () => {
  test("a claim with the wrong token, or for a service not in agent_tokens, is rejected, counted and pins nothing", () => {
    expect(registry.receive(claim(A, keyA, 1, [web("10.0.0.1")], { token: "myapp-tokem" }), now())).toEqual({
      outcome: "rejected",
      reason: "bad-token",
      detail: "the token does not match agent_tokens.myapp",
    });
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")], { token: "" }), now())).toMatchObject({ reason: "bad-token" });
    // The right token for another service is still the wrong token.
    expect(registry.receive(claim(A, keyA, 3, [web("10.0.0.1")], { token: "other-token" }), now())).toMatchObject({ reason: "bad-token" });
    expect(registry.receive(claim(A, keyA, 4, [web("10.0.0.1")], { service: "nope" }), now())).toEqual({
      outcome: "rejected",
      reason: "unknown-service",
      detail: "service nope is not in agent_tokens",
    });
    // Names an object has of its own are no services.
    for (const service of ["constructor", "__proto__", "toString"]) {
      expect(registry.receive(claim(A, keyA, 5, [], { service, token: "x" }), now())).toMatchObject({ reason: "unknown-service" });
    }
    expect(store.agents.list()).toEqual([]);
    expect(events).toEqual([]);
    expect(registry.backends(now()).size).toBe(0);
    expect(registry.counts(now())).toMatchObject({ registered: 0, accepted: 0, rejected: { "bad-token": 3, "unknown-service": 4, "key-mismatch": 0 } });
  });

  test("an agent_tokens entry with an empty token admits nobody", () => {
    registry.reconfigure({ ...config, agent_tokens: { myapp: "" } }, now());
    expect(registry.receive(claim(A, keyA, 1, [], { token: "" }), now())).toMatchObject({ outcome: "rejected", reason: "unknown-service" });
  });

  test("a reload that changes or removes a service's token ends its registrations at once", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    registry.receive(claim(A, keyA, 1, [web("10.0.0.9")], { service: "otherapp", token: "other-token" }), now());
    registry.receive(claim(B, keyB, 1, [web("10.0.0.2")]), now());
    take();
    expect(registry.reconfigure({ ...config, agent_tokens: { myapp: "rotated", otherapp: "other-token" } }, now())).toBe(true);
    expect(take()).toEqual([
      { type: "backend-removed", at: now(), agentId: A, service: "myapp", address: "10.0.0.1", port: 8080, reason: "agent_tokens.myapp changed" },
      { type: "backend-removed", at: now(), agentId: B, service: "myapp", address: "10.0.0.2", port: 8080, reason: "agent_tokens.myapp changed" },
      { type: "agent-removed", at: now(), agentId: B, reason: "its service token is no longer valid" },
    ]);
    expect(statuses()).toEqual({ otherapp: ["10.0.0.9:8080 healthy"] });
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")]), now())).toMatchObject({ reason: "bad-token" });
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")], { token: "rotated" }), now())).toMatchObject({ outcome: "accepted" });
    expect(registry.reconfigure({ ...config, agent_tokens: {} }, now())).toBe(true);
    expect(registry.counts(now())).toMatchObject({ registered: 0, backends: 0 });
  });
});

describe("agent registry: trust on first use", () => {
  test("the first key seen for an agent is pinned in the store; the agent registers with its backends", () => {
    const result = registry.receive(claim(A, keyA, 1, [web("10.0.0.1"), web("10.0.0.2", "unhealthy")]), now());
    expect(result).toEqual({ outcome: "accepted", registered: true, changed: true });
    expect(store.agents.get(A)).toEqual({ agentId: A, service: "myapp", publicKey: keyA.publicKey, firstSeen: now(), lastSeen: now() });
    expect(take()).toEqual([
      { type: "agent-registered", at: now(), agentId: A, service: "myapp", region: "us-east", publicKey: b64(keyA.publicKey), pinned: "new" },
      { type: "backend-added", at: now(), agentId: A, service: "myapp", address: "10.0.0.1", port: 8080 },
      { type: "backend-added", at: now(), agentId: A, service: "myapp", address: "10.0.0.2", port: 8080 },
    ]);
    expect(registry.backends(now()).get("myapp")).toEqual([
      {
        key: "myapp|10.0.0.1|8080", service: "myapp", address: "10.0.0.1", port: 8080, weight: 100, region: "us-east", agentId: A,
        status: "healthy", detail: "HTTP check: healthy", bleeding: false, fresh: true, claim: "healthy", lastSeen: now(), sentAt: 1,
      },
      {
        key: "myapp|10.0.0.2|8080", service: "myapp", address: "10.0.0.2", port: 8080, weight: 100, region: "us-east", agentId: A,
        status: "unhealthy", detail: "HTTP check: unhealthy", bleeding: false, fresh: true, claim: "unhealthy", lastSeen: now(), sentAt: 1,
      },
    ]);
  });

  test("another key for a pinned agent is rejected, reported once per key, and does not disturb the agent", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    take();
    const intruder = keyPair();
    const bad = registry.receive(claim(A, intruder, 2, [web("10.6.6.6")]), now());
    expect(bad).toEqual({ outcome: "rejected", reason: "key-mismatch", detail: `agent ${A} signed with a key other than the one pinned for it` });
    expect(registry.receive(claim(A, intruder, 3, [web("10.6.6.6")]), now())).toMatchObject({ reason: "key-mismatch" });
    expect(take()).toEqual([
      { type: "agent-key-rejected", at: now(), agentId: A, service: "myapp", pinnedKey: b64(keyA.publicKey), offeredKey: b64(intruder.publicKey) },
    ]);
    const another = keyPair();
    registry.receive(claim(A, another, 4, []), now());
    expect(types()).toEqual(["agent-key-rejected"]);
    expect(store.agents.get(A)!.publicKey).toEqual(keyA.publicKey);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy"] });
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")]), now())).toMatchObject({ outcome: "accepted" });
    expect(registry.counts(now()).rejected["key-mismatch"]).toBe(3);
  });

  test("the pin survives a restart of the overwatch: a new registry still refuses another key", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    store.close();
    store = openStore(tmp);
    const fresh = new AgentRegistry({ pins: store.agents, config });
    const seen: AgentRegistryEvent[] = [];
    fresh.onEvent((e) => seen.push(e));
    expect(fresh.receive(claim(A, keyPair(), 2, []), now())).toMatchObject({ reason: "key-mismatch" });
    expect(fresh.receive(claim(A, keyA, 2, [web("10.0.0.1")]), now())).toEqual({ outcome: "accepted", registered: true, changed: true });
    expect(seen.map((e) => (e.type === "agent-registered" ? e.pinned : e.type))).toEqual(["agent-key-rejected", "known", "backend-added"]);
  });

  test("an operator's re-key lets the next new key replace the pin, once", () => {
    registry.receive(claim(A, keyA, 5_000, [web("10.0.0.1")]), now());
    const reinstalled = keyPair();
    expect(registry.receive(claim(A, reinstalled, 1, [web("10.0.0.1")]), now())).toMatchObject({ reason: "key-mismatch" });
    take();
    expect(registry.allowRekey(A, now() + 10 * MINUTE)).toBe(true);
    expect(registry.allowRekey(B, now() + 10 * MINUTE)).toBe(false);
    const allowedAt = now();
    clock.advance(10 * SECOND);
    // The old key, seen while the re-key is allowed, changes nothing.
    expect(registry.receive(claim(A, keyA, 5_001, [web("10.0.0.1")]), now())).toMatchObject({ outcome: "accepted" });
    expect(store.agents.get(A)!.rekeyAllowedUntil).toBe(allowedAt + 10 * MINUTE);
    // The reinstalled agent starts its seq lower than the old one's: a new key starts afresh.
    expect(registry.receive(claim(A, reinstalled, 2, [web("10.0.0.1", "unhealthy")]), now())).toEqual({ outcome: "accepted", registered: false, changed: true });
    expect(take()).toEqual([
      { type: "agent-rekeyed", at: now(), agentId: A, service: "myapp", oldKey: b64(keyA.publicKey), newKey: b64(reinstalled.publicKey) },
    ]);
    expect(store.agents.get(A)).toMatchObject({ publicKey: reinstalled.publicKey, firstSeen: allowedAt, lastSeen: now() });
    expect(store.agents.get(A)!.rekeyAllowedUntil).toBeUndefined();
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 unhealthy"] });
    // Used up: neither the old key nor a third one gets in now.
    expect(registry.receive(claim(A, keyA, 5_002, []), now())).toMatchObject({ reason: "key-mismatch" });
    expect(registry.receive(claim(A, keyPair(), 3, []), now())).toMatchObject({ reason: "key-mismatch" });
    expect(registry.agents(now()).map((a) => a.publicKey)).toEqual([b64(reinstalled.publicKey)]);
  });

  test("a re-key allowance that ran out lets nothing in", () => {
    registry.receive(claim(A, keyA, 1, []), now());
    registry.allowRekey(A, now() + MINUTE);
    clock.advance(MINUTE + 1);
    expect(registry.receive(claim(A, keyPair(), 2, []), now())).toMatchObject({ reason: "key-mismatch" });
    expect(store.agents.get(A)!.publicKey).toEqual(keyA.publicKey);
  });

  test("a store that fails is a rejection, not an exception", () => {
    const broken: Agents = {
      ...store.agents,
      get: () => {
        throw new Error("disk full writing vigil.db");
      },
    };
    const r = new AgentRegistry({ pins: broken, config });
    expect(r.receive(claim(A, keyA, 1, []), now())).toEqual({
      outcome: "rejected",
      reason: "store-unavailable",
      detail: "cannot read or pin the agent's key: disk full writing vigil.db",
    });
    expect(r.counts(now()).rejected["store-unavailable"]).toBe(1);
  });

  test("last_seen is written to the store at most once per touch interval", () => {
    registry.receive(claim(A, keyA, 1, []), now());
    const pinnedAt = now();
    for (let i = 2; i <= 7; i++) {
      clock.advance(10 * SECOND);
      registry.receive(claim(A, keyA, i, []), now());
    }
    expect(store.agents.get(A)!.lastSeen).toBe(pinnedAt + MINUTE);
    clock.advance(10 * SECOND);
    registry.receive(claim(A, keyA, 8, []), now());
    expect(store.agents.get(A)!.lastSeen).toBe(pinnedAt + MINUTE);
  });
});

describe("agent registry: sequence", () => {
  test("a replayed or older claim is ignored, counted, and does not count as a heartbeat", () => {
    registry.receive(claim(A, keyA, 10, [web("10.0.0.1")]), now());
    expect(registry.receive(claim(A, keyA, 10, [web("10.0.0.1", "unhealthy")]), now())).toEqual({
      outcome: "ignored",
      reason: "duplicate",
      detail: "seq 10 part 0 was already received",
    });
    expect(registry.receive(claim(A, keyA, 9, [web("10.0.0.1", "unhealthy")]), now())).toEqual({
      outcome: "ignored",
      reason: "old-sequence",
      detail: "seq 9 is older than 10",
    });
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy"] });
    // A replayer cannot keep a silent agent fresh.
    clock.advance(25 * SECOND);
    registry.receive(claim(A, keyA, 10, [web("10.0.0.1")]), now());
    clock.advance(5 * SECOND);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 unknown"] });
    expect(registry.counts(now())).toMatchObject({ accepted: 1, ignored: { duplicate: 2, "old-sequence": 1 } });
  });

  test("seq is per service: an agent's claims for two services in one heartbeat share it", () => {
    expect(registry.receive(claim(A, keyA, 7, [web("10.0.0.1")]), now()).outcome).toBe("accepted");
    expect(registry.receive(claim(A, keyA, 7, [web("10.0.0.1")], { service: "otherapp", token: "other-token" }), now()).outcome).toBe("accepted");
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy"], otherapp: ["10.0.0.1:8080 healthy"] });
    expect(registry.agents(now())).toEqual([
      { agentId: A, region: "us-east", publicKey: b64(keyA.publicKey), services: ["myapp", "otherapp"], registeredAt: now(), lastSeen: now(), stale: false, backends: 2 },
    ]);
  });

  test("changed says whether backends() reads differently: not for a heartbeat that repeats itself", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    clock.advance(10 * SECOND);
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1", "healthy", { detail: "HTTP 200 in 4 ms" })]), now())).toMatchObject({ changed: false });
    expect(registry.receive(claim(A, keyA, 3, [web("10.0.0.1", "draining")]), now())).toMatchObject({ changed: true });
    expect(registry.receive(claim(A, keyA, 4, [web("10.0.0.1", "draining", { weight: 5 })]), now())).toMatchObject({ changed: true });
    expect(registry.receive(claim(A, keyA, 5, [web("10.0.0.1", "draining", { weight: 5, bleeding: true })]), now())).toMatchObject({ changed: true });
    expect(registry.receive(claim(A, keyA, 6, [web("10.0.0.1", "draining", { weight: 5, bleeding: true })]), now())).toMatchObject({ changed: false });
    expect(registry.backends(now()).get("myapp")![0]).toMatchObject({ status: "draining", claim: "draining", weight: 5, bleeding: true });
  });
});

describe("agent registry: claims in parts", () => {
  const parts = (seq: number, groups: string[][]) =>
    groups.map((addresses, part) => claim(A, keyA, seq, addresses.map((a) => web(a)), { part, parts: groups.length }));

  test("each part adds its backends; a part already seen is a duplicate; a part count that disagrees is ignored", () => {
    const [p0, p1, p2] = parts(1, [["10.0.0.1", "10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"]]);
    registry.receive(p0!, now());
    registry.receive(p2!, now());
    expect(statuses().myapp).toHaveLength(3);
    expect(registry.receive(p2!, now())).toMatchObject({ outcome: "ignored", reason: "duplicate" });
    expect(registry.receive({ ...p1!, parts: 4 }, now())).toMatchObject({ outcome: "ignored", reason: "inconsistent-parts" });
    registry.receive(p1!, now());
    expect(statuses().myapp).toHaveLength(4);
  });

  test("the next heartbeat replaces part by part; when it has fewer parts, the rest go at once", () => {
    for (const p of parts(1, [["10.0.0.1", "10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"]])) registry.receive(p, now());
    take();
    clock.advance(10 * SECOND);
    const [n0, n1] = parts(2, [["10.0.0.1", "10.0.0.3"], ["10.0.0.5"]]);
    registry.receive(n0!, now());
    // 10.0.0.3 moved to part 0 (kept), 10.0.0.2 left it; part 2 is gone: 10.0.0.4 with it.
    expect(take().map((e) => (e.type === "backend-removed" || e.type === "backend-added" ? `${e.type} ${e.address}` : e.type))).toEqual([
      "backend-removed 10.0.0.2",
      "backend-removed 10.0.0.4",
    ]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy", "10.0.0.3:8080 healthy"] });
    registry.receive(n1!, now());
    expect(take().map((e) => e.type === "backend-added" && e.address)).toEqual(["10.0.0.5"]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy", "10.0.0.3:8080 healthy", "10.0.0.5:8080 healthy"] });
  });

  test("a part that stops arriving goes stale, and after remove_after is dropped, while the agent stays", () => {
    for (const p of parts(1, [["10.0.0.1"], ["10.0.0.2"]])) registry.receive(p, now());
    take();
    for (let seq = 2; seq <= 32; seq++) {
      clock.advance(10 * SECOND);
      registry.receive(parts(seq, [["10.0.0.1"], ["10.0.0.2"]])[0]!, now()); // part 1 always lost
      if (seq === 4) expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy", "10.0.0.2:8080 unknown"] });
    }
    expect(take().map((e) => e.type === "backend-removed" && `${e.address} ${e.reason}`)).toEqual([
      "10.0.0.2 not in any claim for 300s (stale.remove_after)",
    ]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy"] });
    expect(registry.counts(now())).toMatchObject({ registered: 1, stale: 0 });
  });
});

describe("agent registry: staleness", () => {
  test("no heartbeat for stale.threshold: stale, claims unknown; after remove_after: dropped, with events", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1"), web("10.0.0.2", "unhealthy")]), now());
    const start = now();
    take();
    expect(registry.nextDue(now())).toBe(start + 30 * SECOND);
    clock.advance(30 * SECOND - 1);
    expect(registry.tick(now())).toBe(false);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy", "10.0.0.2:8080 unhealthy"] });
    clock.advance(1);
    expect(registry.tick(now())).toBe(true);
    expect(take()).toEqual([{ type: "agent-stale", at: start + 30 * SECOND, agentId: A, lastSeen: start }]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 unknown", "10.0.0.2:8080 unknown"] });
    expect(registry.backends(now()).get("myapp")![0]).toMatchObject({ status: "healthy", fresh: false, claim: "unknown", lastSeen: start });
    expect(registry.counts(now())).toMatchObject({ registered: 1, stale: 1, backends: 2 });
    expect(registry.tick(now())).toBe(false);
    expect(registry.nextDue(now())).toBe(start + 5 * MINUTE);
    clock.advance(5 * MINUTE - 30 * SECOND);
    expect(registry.tick(now())).toBe(true);
    const why = `agent ${A} sent no heartbeat for 300s (stale.remove_after)`;
    expect(take()).toEqual([
      { type: "backend-removed", at: now(), agentId: A, service: "myapp", address: "10.0.0.1", port: 8080, reason: why },
      { type: "backend-removed", at: now(), agentId: A, service: "myapp", address: "10.0.0.2", port: 8080, reason: why },
      { type: "agent-removed", at: now(), agentId: A, reason: "no heartbeat for 300s (stale.remove_after 300s)" },
    ]);
    expect(registry.backends(now()).size).toBe(0);
    expect(registry.counts(now())).toMatchObject({ registered: 0, stale: 0, backends: 0 });
    expect(registry.nextDue(now())).toBeUndefined();
    // The pin stays: the agent comes back as known, and only with its key.
    expect(store.agents.get(A)).toBeDefined();
    expect(registry.receive(claim(A, keyPair(), 2, []), now())).toMatchObject({ reason: "key-mismatch" });
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")]), now())).toEqual({ outcome: "accepted", registered: true, changed: true });
    expect(events.find((e) => e.type === "agent-registered")).toMatchObject({ pinned: "known" });
  });

  test("a stale agent that sends a heartbeat again is fresh again", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    clock.advance(45 * SECOND);
    registry.tick(now());
    take();
    expect(registry.receive(claim(A, keyA, 2, [web("10.0.0.1")]), now())).toMatchObject({ outcome: "accepted", changed: true });
    expect(take()).toEqual([{ type: "agent-recovered", at: now(), agentId: A, silentForMs: 45 * SECOND }]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.1:8080 healthy"] });
  });

  test("without tick, backends(), receive() and counts() still apply what is due", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    clock.advance(6 * MINUTE);
    take();
    registry.receive(claim(B, keyB, 1, [web("10.0.0.2")]), now());
    // Past remove_after at once: removed, with no stale in between.
    expect(types()).toEqual(["backend-removed", "agent-removed", "agent-registered", "backend-added"]);
    expect(statuses()).toEqual({ myapp: ["10.0.0.2:8080 healthy"] });
  });

  test("timing follows a reload of stale.threshold and remove_after", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    clock.advance(20 * SECOND);
    expect(registry.reconfigure({ ...config, stale: { threshold: 10 * SECOND, remove_after: MINUTE } }, now())).toBe(true);
    expect(types()).toContain("agent-stale");
    clock.advance(40 * SECOND);
    registry.tick(now());
    expect(types()).toContain("agent-removed");
  });

  test("a scheduler driven by nextDue sees every transition on time", () => {
    // What the wiring does: a timer at nextDue, which calls tick.
    const transitions: string[] = [];
    registry.onEvent((e) => transitions.push(`${e.type}@${(e.at - start) / SECOND}`));
    const start = now();
    const schedule = () => {
      const due = registry.nextDue(clock.now());
      if (due !== undefined) clock.setTimeout(() => { registry.tick(clock.now()); schedule(); }, due - clock.now());
    };
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1")]), now());
    schedule();
    clock.advance(10 * MINUTE);
    expect(transitions).toEqual(["agent-registered@0", "backend-added@0", "agent-stale@30", "backend-removed@300", "agent-removed@300"]);
  });
});

describe("agent registry: many agents and services", () => {
  test("50 agents in 3 services: backends by service, sorted; counts; one quiet region goes stale", () => {
    const keys = new Map<string, ClaimSigner>();
    const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const services = ["myapp", "otherapp", "thirdapp"];
    const tokens = { myapp: "t1", otherapp: "t2", thirdapp: "t3" };
    registry.reconfigure({ ...config, agent_tokens: tokens }, now());
    const beat = (i: number, seq: number) => {
      const service = services[i % 3]!;
      const key = keys.get(id(i)) ?? keys.set(id(i), keyPair()).get(id(i))!;
      const backends = [0, 1, 2, 3].map((j) => web(`10.${i % 3}.${i}.${j}`, j === 3 ? "unhealthy" : "healthy", { port: 8000 + j }));
      return registry.receive(
        claim(id(i), key, seq, backends, { service, token: tokens[service as keyof typeof tokens], region: i < 25 ? "eu" : "us" }),
        now(),
      );
    };
    for (let i = 0; i < 50; i++) expect(beat(i, 1)).toMatchObject({ outcome: "accepted", registered: true });
    expect(store.agents.list()).toHaveLength(50);
    let view = registry.backends(now());
    expect([...view.keys()]).toEqual(services);
    expect(view.get("myapp")!.length + view.get("otherapp")!.length + view.get("thirdapp")!.length).toBe(200);
    const myapp = view.get("myapp")!;
    expect(myapp.map((b) => `${b.address}:${b.port}`)).toEqual(
      myapp.map((b) => `${b.address}:${b.port}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    expect(myapp.filter((b) => b.claim === "unhealthy")).toHaveLength(myapp.length / 4);
    // Only the "us" agents keep sending heartbeats.
    for (let t = 1; t <= 4; t++) {
      clock.advance(10 * SECOND);
      for (let i = 25; i < 50; i++) beat(i, 1 + t);
    }
    view = registry.backends(now());
    const all = [...view.values()].flat();
    expect(all.filter((b) => b.region === "eu").every((b) => b.claim === "unknown")).toBe(true);
    expect(all.filter((b) => b.region === "us").every((b) => b.fresh)).toBe(true);
    expect(registry.counts(now())).toMatchObject({ registered: 50, stale: 25, backends: 200, accepted: 150 });
    expect(types().filter((t) => t === "agent-stale")).toHaveLength(25);
  });

  test("a backend two agents announce is given once, from the agent heard last", () => {
    registry.receive(claim(A, keyA, 1, [web("10.0.0.1", "healthy")]), now());
    clock.advance(SECOND);
    registry.receive(claim(B, keyB, 1, [web("10.0.0.1", "unhealthy")]), now());
    expect(registry.backends(now()).get("myapp")).toMatchObject([{ agentId: B, claim: "unhealthy" }]);
    clock.advance(SECOND);
    registry.receive(claim(A, keyA, 2, [web("10.0.0.1", "healthy")]), now());
    expect(registry.backends(now()).get("myapp")).toMatchObject([{ agentId: A, claim: "healthy" }]);
    // A fresh claim beats a stale one, whichever came last.
    clock.advance(29 * SECOND);
    registry.receive(claim(B, keyB, 2, [web("10.0.0.1", "unhealthy")]), now());
    clock.advance(2 * SECOND);
    expect(registry.backends(now()).get("myapp")).toMatchObject([{ agentId: B, fresh: true }]);
    expect(registry.counts(now()).backends).toBe(1);
  });
});

describe("agent registry with claims off the wire", () => {
  test("encode → decode → receive: a decoded Claim is an AgentClaim, parts and all", () => {
    const backends = Array.from({ length: 200 }, (_, i) => ({
      address: `10.9.${i >> 8}.${i & 0xff}`, port: 443, weight: 10, status: "healthy" as const, detail: "ok", bleeding: i === 7,
    }));
    const payloads = encodeClaim({ agentId: A, service: "myapp", token: "myapp-token", region: "", seq: 42, time: 42, backends }, keyA);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) {
      const decoded = decodeClaim(payload);
      if (!decoded.ok) throw new Error(decoded.reason);
      const asReceived: Claim = decoded.claim;
      expect(registry.receive(asReceived, now())).toMatchObject({ outcome: "accepted" });
    }
    const list = registry.backends(now()).get("myapp")!;
    expect(list).toHaveLength(200);
    expect(list.filter((b) => b.bleeding).map((b) => b.address)).toEqual(["10.9.0.7"]);
    expect(list[0]!.region).toBeUndefined();
    expect(registry.counts(now())).toMatchObject({ registered: 1, accepted: payloads.length });
  });

  test("the wiring counts payloads it could not decode", () => {
    registry.countUndecodable("bad-signature");
    registry.countUndecodable("bad-signature");
    registry.countUndecodable("malformed");
    expect(registry.counts(now()).undecodable).toEqual({ "bad-signature": 2, malformed: 1 });
  });
});
