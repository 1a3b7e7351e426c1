// Whole clusters on the in-memory network, in simulated time: joining, failure detection,
// refutation, partitions, loss, key rotation, bad input, broadcasts and push-pull repair.

import { describe, expect, test } from "bun:test";
import { encodeMessage, packetOf } from "../../src/cluster/codec.ts";
import { seal } from "../../src/cluster/crypto.ts";
import { Keyring } from "../../src/cluster/keyring.ts";
import type { Message } from "../../src/cluster/messages.ts";
import { LAN_DEFAULTS, retransmitLimit, suspicionMinMs } from "../../src/cluster/tuning.ts";
import { newKey, Sim, type SimNode } from "./sim.ts";

const names = (count: number) => Array.from({ length: count }, (_, i) => `n${i + 1}`);
const bytes = (text: string) => new TextEncoder().encode(text);
const eventsOf = (nodes: Iterable<SimNode>, type: string) => [...nodes].flatMap((n) => n.events.filter((e) => e.type === type));

describe("membership", () => {
  test("five nodes joining one converge: everyone sees everyone alive", async () => {
    const sim = new Sim({ seed: 1 });
    const nodes = await sim.cluster(5);
    expect(sim.elapsed()).toBeLessThan(2_000);
    for (const n of nodes) {
      expect(n.events.filter((e) => e.type === "joined").map((e) => e.member.name).sort()).toEqual(names(5).filter((x) => x !== n.name));
    }
    expect(nodes[0]!.node.member("n5")).toMatchObject({ address: "n5:7946", state: "alive", meta: { role: "overwatch", region: "eu-west" } });
    await sim.run(60_000);
    expect(sim.allSee(names(5), names(5), "alive")).toBe(true);
    expect(eventsOf(nodes, "suspect")).toEqual([]);
    const stats = nodes[0]!.node.stats();
    expect(stats.probes).toBeGreaterThan(50);
    expect(stats.packetsIn).toBeGreaterThan(0);
    expect(stats.dropped).toEqual({});
    expect(nodes.map((n) => n.node.healthScore)).toEqual([0, 0, 0, 0, 0]);
  });

  test("a node that dies is suspected, then declared dead by every other member within the expected time", async () => {
    const sim = new Sim({ seed: 2 });
    const nodes = await sim.cluster(5);
    await sim.run(10_000);
    const crashedAt = sim.clock.now();
    await sim.get("n5").node.shutdown();
    const survivors = names(4);
    const took = await sim.runUntil(() => sim.allSee(survivors, ["n5"], "dead"), 60_000, 10);

    // Expected: a probe round or two to notice (about 1–2 s), then the Lifeguard suspicion timeout,
    // which falls to its minimum, suspicion_mult × probe_interval = 4 s, once two others confirm.
    const min = suspicionMinMs(LAN_DEFAULTS, 5);
    expect(took).toBeLessThan(min + 3_000);
    for (const n of nodes.slice(0, 4)) {
      const suspect = n.events.find((e) => e.type === "suspect" && e.member.name === "n5")!;
      const dead = n.events.find((e) => e.type === "dead" && e.member.name === "n5")!;
      expect(suspect.at).toBeLessThan(dead.at);
      expect(dead.at - crashedAt).toBeGreaterThanOrEqual(min);
    }
    const reasons = nodes.slice(0, 4).flatMap((n) => n.events.filter((e) => e.type === "dead").map((e) => e.reason));
    expect(reasons.some((r) => r.startsWith("suspicion timed out"))).toBe(true);
    expect(eventsOf(nodes.slice(0, 4), "dead").map((e) => e.member.name)).toEqual(["n5", "n5", "n5", "n5"]);

    // Kept for gossip_to_the_dead_time so it can still refute, then forgotten.
    await sim.run(LAN_DEFAULTS.gossip_to_the_dead_time + 10_000);
    expect(sim.stateOf("n1", "n5")).toBeUndefined();
  });

  test("a falsely suspected node refutes and stays alive", async () => {
    const sim = new Sim({ seed: 5 });
    const nodes = await sim.cluster(5);
    await sim.run(5_000);
    // n3 stops hearing anything (packets and streams) until someone suspects it, then recovers.
    const others = nodes.filter((n) => n.name !== "n3");
    for (const n of others) sim.network.setLink(n.address, "n3:7946", { loss: 1 }, true);
    await sim.runUntil(() => others.some((n) => n.events.some((e) => e.type === "suspect" && e.member.name === "n3")), 20_000);
    for (const n of others) sim.network.setLink(n.address, "n3:7946", { loss: 0 }, true);
    await sim.run(60_000);

    expect(sim.get("n3").node.stats().refutations).toBeGreaterThanOrEqual(1);
    expect(sim.allSee(names(5), names(5), "alive")).toBe(true);
    expect(sim.get("n1").node.member("n3")!.incarnation).toBeGreaterThanOrEqual(1);
    expect(eventsOf(nodes, "dead")).toEqual([]);
    const back = others.flatMap((n) => n.events.filter((e) => e.type === "alive-again" && e.member.name === "n3"));
    expect(back.length).toBeGreaterThan(0);
    expect(back[0]!.reason).toContain("refuted the suspicion");
  });

  test("a member one node cannot reach stays alive through indirect probes", async () => {
    const sim = new Sim({ seed: 6 });
    const nodes = await sim.cluster(5);
    sim.network.setLink("n1:7946", "n2:7946", { loss: 1 });
    await sim.run(120_000);
    expect(sim.get("n1").node.stats().indirectProbes).toBeGreaterThan(0);
    expect(sim.get("n3").node.stats().indirectProbesServed + sim.get("n4").node.stats().indirectProbesServed).toBeGreaterThan(0);
    expect(eventsOf(nodes, "suspect")).toEqual([]);
    expect(sim.allSee(names(5), names(5), "alive")).toBe(true);
  });

  test("Lifeguard: a node that hears nothing back blames itself and slows its probing", async () => {
    const sim = new Sim({ seed: 7 });
    const nodes = await sim.cluster(5);
    for (const n of nodes.slice(1)) sim.network.setLink(n.address, "n1:7946", { loss: 1 }, true);
    await sim.run(10_000);
    const deaf = sim.get("n1").node;
    expect(deaf.healthScore).toBeGreaterThanOrEqual(3); // each unanswered probe with no nacks costs 3 (one per helper)
    const before = deaf.stats().probes;
    await sim.run(20_000);
    // At the maximum score a probe takes 8 × probe_interval: a handful in 20 s instead of 20.
    expect(deaf.stats().probes - before).toBeLessThanOrEqual(3);
    const healthy = sim.get("n2").node;
    expect(healthy.healthScore).toBe(0);
  });

  test("a partition of 2 | 3 splits the views, and after healing everyone is alive again", async () => {
    const sim = new Sim({ seed: 1 });
    await sim.cluster(5);
    const small = ["n1", "n2"];
    const large = ["n3", "n4", "n5"];
    sim.network.partition(small.map((n) => `${n}:7946`), large.map((n) => `${n}:7946`));
    await sim.runUntil(() => sim.allSee(small, large, "dead") && sim.allSee(large, small, "dead"), 60_000);
    expect(sim.allSee(small, small, "alive") && sim.allSee(large, large, "alive")).toBe(true);
    await sim.run(60_000); // long enough for the dead to be reaped: only reconnect can bring them back
    sim.network.heal();
    // Reconnect retries a failed member every reconnect_interval (30 s).
    await sim.runUntil(() => sim.allSee(names(5), names(5), "alive"), 2 * LAN_DEFAULTS.reconnect_interval + 10_000);
  });

  for (const loss of [0.1, 0.2]) {
    test(`with ${loss * 100}% packet loss the cluster stays whole: no false deaths`, async () => {
      const sim = new Sim({ seed: 4 });
      const nodes = await sim.cluster(5);
      sim.network.setDefaults({ loss });
      await sim.run(300_000);
      expect(eventsOf(nodes, "dead")).toEqual([]);
      expect(sim.allSee(names(5), names(5), "alive")).toBe(true);
      expect(sim.network.stats.packetsLost).toBeGreaterThan(0);
      const fallback = nodes.reduce((sum, n) => sum + n.node.stats().fallbackAcks, 0);
      expect(fallback).toBeGreaterThan(0);
    });
  }

  test("a new node joins while packets are lost", async () => {
    const sim = new Sim({ seed: 8, loss: 0.2 });
    const nodes = await sim.cluster(5, 60_000);
    const late = sim.add("n6");
    await sim.settle(late.node.join(["n1:7946"]));
    await sim.runUntil(() => sim.allSee(names(6), names(6), "alive"), 60_000);
    expect(eventsOf([...nodes, late], "dead")).toEqual([]);
  });

  test("graceful leave: the others see it left (not dead) at once, and forget it later", async () => {
    const sim = new Sim({ seed: 3 });
    const nodes = await sim.cluster(4);
    await sim.run(3_000);
    const leaving = sim.get("n4").node.leave();
    await sim.runUntil(() => sim.allSee(names(3), ["n4"], "left"), 2_000, 10);
    await sim.settle(leaving);
    await sim.get("n4").node.shutdown();
    expect(eventsOf(nodes, "dead")).toEqual([]);
    expect(nodes[0]!.events.find((e) => e.type === "left")!.reason).toBe("left the cluster");
    await sim.run(LAN_DEFAULTS.gossip_to_the_dead_time + 10_000);
    expect(sim.stateOf("n1", "n4")).toBeUndefined();
    expect(eventsOf(nodes, "suspect")).toEqual([]);
  });

  test("a node alone leaves at once", async () => {
    const sim = new Sim();
    const solo = sim.add("n1");
    await solo.node.leave();
    expect(solo.node.member("n1")!.state).toBe("left");
    expect(() => solo.node.publish(bytes("x"))).toThrow("leaving");
  });

  test("a restarted node (same name, incarnation 0 again) is accepted back", async () => {
    const sim = new Sim({ seed: 9 });
    const nodes = await sim.cluster(4);
    await sim.get("n4").node.shutdown();
    await sim.runUntil(() => sim.allSee(names(3), ["n4"], "dead"), 60_000);
    sim.nodes.delete("n4");
    const again = sim.add("n4");
    await sim.settle(again.node.join(["n1:7946"]));
    await sim.runUntil(() => sim.allSee(names(4), names(4), "alive"), 10_000);
    expect(again.node.member("n4")!.incarnation).toBeGreaterThan(0);
    expect(nodes[0]!.events.at(-1)).toMatchObject({ type: "alive-again", member: { name: "n4" } });
  });
});

describe("encryption", () => {
  test("key rotation (install everywhere, use everywhere, remove the old) keeps the cluster whole", async () => {
    const sim = new Sim({ seed: 11 });
    const nodes = await sim.cluster(5);
    const fresh = newKey();
    for (const n of nodes) {
      n.keyring.install(fresh);
      await sim.run(2_000);
    }
    for (const n of nodes) {
      n.keyring.use(fresh);
      await sim.run(2_000);
    }
    for (const n of nodes) {
      n.keyring.remove(sim.key);
      await sim.run(2_000);
    }
    await sim.run(60_000);
    expect(sim.allSee(names(5), names(5), "alive")).toBe(true);
    expect(eventsOf(nodes, "suspect")).toEqual([]);
    expect(nodes.map((n) => n.node.stats().dropped)).toEqual(nodes.map(() => ({})));

    // The old key no longer opens anything.
    const stale = sim.network.attach("stale:1");
    stale.sendPacket("n1:7946", seal(new Keyring(sim.key), packetOf([encodeMessage({ type: "ping", seq: 1, target: "n1" })]), "packet"));
    await sim.run(100);
    expect(sim.get("n1").node.stats().dropped["wrong-key"]).toBe(1);
  });

  test("a node with the wrong key cannot join, and what it sends is counted as wrong-key", async () => {
    const sim = new Sim({ seed: 12 });
    const nodes = await sim.cluster(3);
    const intruder = sim.add("evil", { keyring: new Keyring(newKey()) });
    const result = await sim.settle(intruder.node.join(["n1:7946"]));
    expect(result.joined).toEqual([]);
    expect(result.failed.map((f) => f.address)).toEqual(["n1:7946"]);
    await sim.run(100_000); // it keeps retrying its seed while alone
    expect(sim.get("n1").node.stats().dropped["wrong-key"]).toBeGreaterThanOrEqual(3);
    for (const n of nodes) expect(n.node.member("evil")).toBeUndefined();
    expect(intruder.node.members().map((m) => m.name)).toEqual(["evil"]);
    expect(sim.allSee(names(3), names(3), "alive")).toBe(true);
  });
});

describe("bad input", () => {
  test("malformed and oversized packets and stream frames are dropped, counted by reason, and harm nothing", async () => {
    const sim = new Sim({ seed: 13 });
    const nodes = await sim.cluster(3);
    const junk = sim.network.attach("junk:1");
    const ring = new Keyring(sim.key);
    const sealed = (plain: Uint8Array) => seal(ring, plain, "packet");
    const send = (data: Uint8Array) => junk.sendPacket("n1:7946", data);

    send(new Uint8Array(5)); // too short to be an envelope
    send(Uint8Array.of(1, ...new Uint8Array(40))); // an envelope no key opens
    send(new Uint8Array(LAN_DEFAULTS.packet_bytes + 1)); // larger than any packet we send
    send(sealed(Uint8Array.of(9, 1))); // a protocol version we do not speak
    send(sealed(Uint8Array.of(1, 77))); // an unknown message type
    send(sealed(Uint8Array.of(1, 1, 0, 0))); // a ping cut short
    send(sealed(packetOf([encodeMessage({ type: "ack", seq: 1 }), Uint8Array.of(6, 0, 0, 0, 1, 0)]))); // a compound with a bad alive
    send(sealed(packetOf([encodeMessage({ type: "ping", seq: 1, target: "someone-else" })])));
    const stream = await sim.settle(junk.openStream("n1:7946", 1_000));
    stream.write(seal(ring, Uint8Array.of(1, 10, 1), "stream")); // a push-pull cut short
    await sim.run(1_000);

    expect(sim.get("n1").node.stats().dropped).toEqual({
      "malformed-envelope": 1,
      "wrong-key": 1,
      oversized: 1,
      "bad-version": 1,
      "unknown-type": 1,
      truncated: 2,
      "bad-field": 1,
      misdirected: 1,
    });
    await sim.run(30_000);
    expect(sim.allSee(names(3), names(3), "alive")).toBe(true);
    expect(eventsOf(nodes, "suspect")).toEqual([]);
  });
});

describe("broadcasts", () => {
  test("an application message reaches every node once, within the retransmit bound", async () => {
    const sim = new Sim({ seed: 14 });
    const nodes = await sim.cluster(10);
    await sim.run(5_000);
    const sentAt = sim.clock.now();
    nodes[0]!.node.publish(bytes('{"claim":"web-1 up"}'));
    // Each node passes a message on retransmit_limit times, gossip_nodes at a time, every gossip_interval:
    // within that many rounds it has reached everyone (in practice far sooner).
    const bound = retransmitLimit(LAN_DEFAULTS, 10) * LAN_DEFAULTS.gossip_interval;
    const took = await sim.runUntil(() => nodes.slice(1).every((n) => n.messages.length > 0), bound, 10);
    expect(took).toBeLessThanOrEqual(bound);
    await sim.run(10_000);
    for (const n of nodes.slice(1)) {
      expect(n.messages.map((m) => [m.origin, new TextDecoder().decode(m.payload)])).toEqual([["n1", '{"claim":"web-1 up"}']]);
    }
    expect(nodes[0]!.messages).toEqual([]); // the sender does not hear itself
    expect(nodes.reduce((sum, n) => sum + n.node.stats().userDuplicates, 0)).toBeGreaterThan(0);
    expect(sentAt).toBeLessThan(sim.clock.now());
  });

  test("membership news also rides on probes and acks, not only on gossip rounds and push-pull", async () => {
    // Gossip rounds once in ten minutes and no periodic push-pull: only the joins' own exchange and piggybacking remain.
    const sim = new Sim({ seed: 15, tuning: { gossip_interval: 600_000, push_pull_interval: 0 } });
    const nodes = await sim.cluster(5, 10_000);
    expect(nodes.map((n) => n.node.stats().pushPulls)).toEqual([0, 1, 1, 1, 1]);
  });

  test("a newer message with the same key replaces one not yet sent", async () => {
    const sim = new Sim({ seed: 16 });
    const nodes = await sim.cluster(3);
    nodes[0]!.node.publish(bytes("web-1 down"), { key: "web-1" });
    nodes[0]!.node.publish(bytes("web-1 up"), { key: "web-1" });
    await sim.run(5_000);
    expect(nodes[1]!.messages.map((m) => new TextDecoder().decode(m.payload))).toEqual(["web-1 up"]);
  });

  test("a payload too large for one packet is refused with the limit", async () => {
    const sim = new Sim();
    const { node } = sim.add("n1");
    expect(node.maxPayloadBytes).toBeGreaterThan(1_300);
    expect(node.maxPayloadBytes).toBeLessThan(1_400);
    expect(() => node.publish(new Uint8Array(node.maxPayloadBytes))).not.toThrow();
    expect(() => node.publish(new Uint8Array(node.maxPayloadBytes + 1))).toThrow(`at most ${node.maxPayloadBytes} fit`);
  });

  test("packets never exceed packet_bytes, even with a full broadcast queue", async () => {
    const sim = new Sim({ seed: 17 });
    const nodes = await sim.cluster(4);
    let largest = 0;
    const probe = sim.network.attach("probe:1");
    probe.onPacket(() => {});
    const original = sim.network.sendPacket.bind(sim.network);
    sim.network.sendPacket = (from, to, data) => {
      largest = Math.max(largest, data.length);
      original(from, to, data);
    };
    for (let i = 0; i < 50; i++) nodes[0]!.node.publish(new Uint8Array(300).fill(i));
    await sim.run(10_000);
    expect(largest).toBeGreaterThan(1_000);
    expect(largest).toBeLessThanOrEqual(LAN_DEFAULTS.packet_bytes);
    // Gossip is best effort: a message can miss a node when every copy went elsewhere.
    expect(nodes[3]!.messages.length).toBeGreaterThan(45);
  });
});

describe("push-pull", () => {
  test("repairs a node that missed the broadcasts about a newcomer", async () => {
    const sim = new Sim({ seed: 18 });
    const nodes = await sim.cluster(5);
    await sim.run(5_000);
    // n5 hears nothing while n6 joins and the news about it goes round.
    for (const n of nodes.slice(0, 4)) sim.network.setLink(n.address, "n5:7946", { loss: 1 }, true);
    const late = sim.add("n6");
    sim.network.setLink("n6:7946", "n5:7946", { loss: 1 }, true);
    await sim.settle(late.node.join(["n1:7946"]));
    await sim.run(1_500);
    for (const n of [...nodes.slice(0, 4), late]) sim.network.setLink(n.address, "n5:7946", { loss: 0 }, true);
    expect(sim.allSee(names(4), ["n6"], "alive")).toBe(true);
    expect(sim.stateOf("n5", "n6")).toBeUndefined();

    await sim.runUntil(() => sim.stateOf("n5", "n6") === "alive", LAN_DEFAULTS.push_pull_interval * 2);
    const learned = sim.get("n5").events.find((e) => e.type === "joined" && e.member.name === "n6")!;
    expect(learned.reason).toContain("push-pull");
    expect(eventsOf(sim.nodes.values(), "dead")).toEqual([]);
  });

  test("carries the application's state both ways, on join and periodically", async () => {
    const sim = new Sim({ seed: 19 });
    const merged: Record<string, string[]> = { a: [], b: [] };
    const delegate = (name: "a" | "b") => ({
      localState: (join: boolean) => bytes(`${name}:${join ? "join" : "sync"}`),
      mergeRemoteState: (state: Uint8Array) => void merged[name]!.push(new TextDecoder().decode(state)),
    });
    sim.add("a", { state: delegate("a") });
    const b = sim.add("b", { state: delegate("b") });
    await sim.settle(b.node.join(["a:7946"]));
    expect(merged).toEqual({ a: ["b:join"], b: ["a:join"] });
    await sim.run(LAN_DEFAULTS.push_pull_interval * 2);
    expect(merged.a!.concat(merged.b!)).toContain("a:sync");
  });
});

describe("lifecycle", () => {
  test("join skips this node's own address and reports what it could not reach", async () => {
    const sim = new Sim();
    const a = sim.add("a");
    const result = await sim.settle(a.node.join(["a:7946", "nobody:7946"]));
    expect(result).toEqual({ joined: [], failed: [{ address: "nobody:7946", error: "connect to nobody:7946: connection refused" }] });
  });

  test("meta changes spread as an update", async () => {
    const sim = new Sim({ seed: 20 });
    const nodes = await sim.cluster(3);
    nodes[0]!.node.updateMeta({ role: "overwatch", region: "us-east" });
    await sim.run(2_000);
    expect(nodes[2]!.node.member("n1")!.meta.region).toBe("us-east");
    expect(nodes[2]!.events.at(-1)).toMatchObject({ type: "updated", member: { name: "n1" } });
  });

  test("after shutdown nothing is sent and no timer is left behind", async () => {
    const sim = new Sim({ seed: 21 });
    await sim.cluster(3);
    await sim.shutdown();
    await sim.run(60_000);
    expect(sim.clock.pendingTimers()).toBe(0);
  });

  test("messages of every kind are handled by a running node (smoke: a hand-made compound)", async () => {
    const sim = new Sim({ seed: 22 });
    await sim.cluster(2);
    const raw = sim.network.attach("raw:1");
    const replies: Uint8Array[] = [];
    raw.onPacket((data) => replies.push(data));
    const all: Message[] = [
      { type: "alive", incarnation: 0, node: "n9", address: "n9:7946", meta: { role: "agent", region: "" } },
      { type: "suspect", incarnation: 0, node: "n9", from: "n2" },
      { type: "nack", seq: 99 },
      { type: "ack", seq: 99 },
      { type: "ping", seq: 5, target: "n1" },
    ];
    raw.sendPacket("n1:7946", seal(new Keyring(sim.key), packetOf(all.map(encodeMessage)), "packet"));
    await sim.run(100);
    expect(replies.length).toBe(1);
    expect(sim.get("n1").node.member("n9")!.state).toBe("suspect");
    expect(sim.get("n1").node.member("n9")!.meta.role).toBe("agent");
  });
});
