// Key sync between real API servers on loopback: each node has its own store, keyring and Bun.serve
// on port 0 with the DNSSEC routes mounted; the nodes share one ManualClock.
import { afterEach, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { ApiEnv } from "../../../../src/api/app.ts";
import { dnssecRoutes, type DnssecRouteDeps } from "../../../../src/api/dnssec-routes.ts";
import { serveApi, type ApiServer } from "../../../../src/api/serve.ts";
import {
  compareKeySets,
  KEYSET_PATH,
  KeySync,
  openKeySets,
  prepareKeys,
  SEAL_MAX_AGE_MS,
  sealKeySets,
} from "../../../../src/dns/dnssec/key-sync.ts";
import type { KeySet } from "../../../../src/dns/dnssec/keyring.ts";
import { ManualClock } from "../../../../src/lib/clock.ts";
import { waitFor } from "../../../helpers/wait.ts";
import { HOUR, secretForms, TempDirs, testKeyring, type TestKeyring } from "./helpers.ts";

const TOKEN = "cluster-token-7f3a";
const ZONE = "example.test";
const dirs = new TempDirs();
const servers: ApiServer[] = [];
const syncs: KeySync[] = [];
afterEach(() => {
  for (const sync of syncs.splice(0)) sync.stop();
  for (const server of servers.splice(0)) server.stop();
  dirs.cleanup();
});

interface TestNode extends TestKeyring {
  url: string;
  sync: KeySync;
  /** Points this node's key sync at the other nodes. */
  peerWith(...others: TestNode[]): void;
}

function startNode(clock: ManualClock, token: string | undefined = TOKEN): TestNode {
  const base = testKeyring(dirs.store(), { clock });
  const deps: DnssecRouteDeps = { keyring: base.keyring, sync: undefined, token, now: () => clock.now() };
  const app = new Hono<ApiEnv>();
  app.route("/", dnssecRoutes(deps));
  const server = serveApi(app, { host: "127.0.0.1", port: 0 });
  servers.push(server);
  const node: TestNode = {
    ...base,
    url: `http://127.0.0.1:${server.port}`,
    sync: new KeySync({ keyring: base.keyring, peers: [], token, pollInterval: HOUR, clock, log: base.log }),
    peerWith(...others) {
      node.sync = new KeySync({ keyring: base.keyring, peers: others.map((o) => o.url), token, pollInterval: HOUR, clock, log: base.log });
      deps.sync = node.sync;
      syncs.push(node.sync);
    },
  };
  return node;
}

const keysOf = (node: TestNode) => node.keyring.keySet(ZONE);

describe("joining a cluster", () => {
  test("a new node takes the keys the first node made instead of making its own", async () => {
    const clock = new ManualClock();
    const a = startNode(clock);
    const b = startNode(clock);
    a.keyring.ensureKeys();
    b.peerWith(a);
    clock.advance(60_000);

    await prepareKeys(b.keyring, b.sync);

    expect(keysOf(b)).toEqual(keysOf(a));
    expect(b.lines.some((l) => l.includes("generated"))).toBe(false);
    const [peer] = b.sync.status();
    expect(peer).toMatchObject({ peer: a.url, result: "ok", lastSuccess: clock.now() });
    expect(peer!.zones).toEqual([{ zone: ZONE, outcome: "adopted", keyTags: [keysOf(a).keys[0]!.tag] }]);

    a.peerWith(b);
    await a.sync.syncOnce();
    expect(a.sync.status()[0]!.zones[0]!.outcome).toBe("in_sync");
  });

  test("with no peer reachable, the node makes its own keys", async () => {
    const clock = new ManualClock();
    const gone = startNode(clock);
    servers.pop()!.stop();
    const lonely = startNode(clock);
    lonely.peerWith(gone);

    await prepareKeys(lonely.keyring, lonely.sync);
    expect(lonely.keyring.publishedKeys(ZONE).length).toBe(1);
    expect(lonely.sync.status()[0]).toMatchObject({ result: "error" });
  });
});

describe("two nodes that each made keys", () => {
  for (const older of ["a", "b"] as const) {
    for (const first of ["a", "b"] as const) {
      test(`settle on the set of the node that made its keys first (${older}), whichever syncs first (${first})`, async () => {
        const clock = new ManualClock();
        const nodes = { a: startNode(clock), b: startNode(clock) };
        const newer = older === "a" ? "b" : "a";
        nodes[older].keyring.ensureKeys();
        clock.advance(60_000);
        nodes[newer].keyring.ensureKeys();
        const winner = structuredClone(keysOf(nodes[older]));
        nodes.a.peerWith(nodes.b);
        nodes.b.peerWith(nodes.a);

        const second = first === "a" ? "b" : "a";
        await nodes[first].sync.syncOnce();
        await nodes[second].sync.syncOnce();

        expect(keysOf(nodes.a)).toEqual(winner);
        expect(keysOf(nodes.b)).toEqual(winner);
        expect(nodes[newer].sync.status()[0]!.zones[0]!.outcome).toBe("adopted");
        expect(nodes[older].sync.status()[0]!.zones[0]!.outcome).toBe(first === older ? "kept_local" : "in_sync");
      });
    }
  }
});

describe("the conflict rule", () => {
  const set = (revision: number, keys: { tag: number; createdAt: number; byte?: number; state?: "active" | "removed" }[]): KeySet => ({
    zone: ZONE,
    revision,
    keys: keys.map((k) => ({
      zone: ZONE,
      role: "csk",
      algorithm: 13,
      tag: k.tag,
      state: k.state ?? "active",
      createdAt: k.createdAt,
      stateSince: k.createdAt,
      publicKey: new Uint8Array(64).fill(k.byte ?? 1),
      privateKey: new Uint8Array(32),
    })),
  });

  test("higher revision, then oldest active key, then lower tags, then lower public keys; the same either way round", () => {
    const cases: [KeySet, KeySet][] = [
      [set(2, [{ tag: 900, createdAt: 50 }]), set(1, [{ tag: 1, createdAt: 10 }])],
      [set(1, [{ tag: 900, createdAt: 10 }]), set(1, [{ tag: 1, createdAt: 20 }])],
      [set(1, [{ tag: 5, createdAt: 10 }, { tag: 9, createdAt: 30 }]), set(1, [{ tag: 6, createdAt: 10 }])],
      [set(1, [{ tag: 5, createdAt: 10, byte: 1 }]), set(1, [{ tag: 5, createdAt: 10, byte: 2 }])],
      // A removed key is history: it neither makes a set older nor counts among its tags.
      [set(1, [{ tag: 7, createdAt: 10 }]), set(1, [{ tag: 1, createdAt: 5, state: "removed" }, { tag: 8, createdAt: 10 }])],
    ];
    for (const [winner, loser] of cases) {
      expect(compareKeySets(winner, loser)).toBeLessThan(0);
      expect(compareKeySets(loser, winner)).toBeGreaterThan(0);
    }
    expect(compareKeySets(set(1, [{ tag: 5, createdAt: 10 }]), set(1, [{ tag: 5, createdAt: 10 }]))).toBe(0);
  });
});

describe("after the first sync", () => {
  test("a rollover on one node reaches the other at its next poll", async () => {
    const clock = new ManualClock();
    const a = startNode(clock);
    const b = startNode(clock);
    a.keyring.ensureKeys();
    b.peerWith(a);
    await prepareKeys(b.keyring, b.sync);
    b.sync.start();

    const joined = clock.now();
    const fresh = a.keyring.startRollover(ZONE);
    clock.advance(HOUR - 1);
    expect(b.sync.status()[0]!.lastAttempt).toBe(joined);
    clock.advance(1);
    expect(b.sync.status()[0]!.lastAttempt).toBe(joined + HOUR);
    await waitFor("B's poll", () => keysOf(b).revision === 2);
    expect(keysOf(b)).toEqual(keysOf(a));
    expect(b.keyring.publishedKeys(ZONE).find((k) => k.tag === fresh.tag)!.state).toBe("published");
  });

  test("a node with the wrong token is refused and keeps its own keys", async () => {
    const clock = new ManualClock();
    const a = startNode(clock);
    const b = startNode(clock, "not-the-token");
    a.keyring.ensureKeys();
    clock.advance(60_000);
    b.keyring.ensureKeys();
    const own = structuredClone(keysOf(b));
    b.peerWith(a);

    await b.sync.syncOnce();

    expect(keysOf(b)).toEqual(own);
    const [status] = b.sync.status();
    expect(status).toMatchObject({ result: "refused", zones: [] });
    expect(status!.lastSuccess).toBeUndefined();
    expect(status!.error).toContain("401");
  });
});

describe("the sealed key set", () => {
  test("travels without a private key in clear and opens only with the token, fresh and unaltered", async () => {
    const clock = new ManualClock();
    const a = startNode(clock);
    a.keyring.ensureKeys();
    const response = await fetch(a.url + KEYSET_PATH, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const secret of secretForms(keysOf(a).keys)) expect(text).not.toContain(secret);

    const sealed = JSON.parse(text);
    expect(openKeySets(sealed, TOKEN, clock.now())).toEqual([keysOf(a)]);
    expect(() => openKeySets(sealed, "guess", clock.now())).toThrow(/api.token differs/);
    const body = Buffer.from(sealed.ciphertext, "base64");
    body[5]! ^= 1;
    expect(() => openKeySets({ ...sealed, ciphertext: body.toString("base64") }, TOKEN, clock.now())).toThrow(/altered/);
    expect(() => openKeySets(sealed, TOKEN, clock.now() + SEAL_MAX_AGE_MS + 1)).toThrow(/replayed/);
  });

  test("two seals of the same set differ (fresh salt and nonce each time)", () => {
    const clock = new ManualClock();
    const a = startNode(clock);
    a.keyring.ensureKeys();
    const one = sealKeySets([keysOf(a)], TOKEN, clock.now());
    const two = sealKeySets([keysOf(a)], TOKEN, clock.now());
    expect(one.ciphertext).not.toBe(two.ciphertext);
    expect(one.salt).not.toBe(two.salt);
  });
});
