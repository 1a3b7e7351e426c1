import { describe, expect, test } from "bun:test";
import { type Effect, MemberTable } from "../../src/cluster/member-table.ts";
import type { Alive, MemberMeta } from "../../src/cluster/messages.ts";
import { LAN_DEFAULTS } from "../../src/cluster/tuning.ts";

const meta: MemberMeta = { role: "overwatch", region: "eu" };
const alive = (node: string, incarnation = 0, extra: Partial<Alive> = {}): Alive =>
  ({ type: "alive", incarnation, node, address: `${node}:7946`, meta, ...extra });

/** A table for n1 that already knows `others` as alive at incarnation 0. */
function tableWith(...others: string[]): MemberTable {
  const table = new MemberTable({ name: "n1", address: "n1:7946", meta }, LAN_DEFAULTS, 0);
  for (const name of others) table.onAlive(alive(name), 0, "test");
  return table;
}

const kinds = (effects: Effect[]) => effects.map((e) => (e.kind === "event" ? `event:${e.event.type}` : e.kind));
const events = (effects: Effect[]) => effects.flatMap((e) => (e.kind === "event" ? [`${e.event.type} ${e.event.member.name}: ${e.event.reason}`] : []));

describe("MemberTable", () => {
  test("a new member joins and the news is passed on; a repeat changes nothing", () => {
    const table = tableWith();
    expect(kinds(table.onAlive(alive("n2"), 5, "gossip from n2:7946"))).toEqual(["broadcast", "event:joined"]);
    expect(table.get("n2")).toMatchObject({ state: "alive", incarnation: 0, since: 5 });
    expect(table.onAlive(alive("n2"), 6, "gossip")).toEqual([]);
  });

  test("suspect, then dead when the suspicion falls due", () => {
    const table = tableWith("n2", "n3");
    const effects = table.onSuspect({ type: "suspect", incarnation: 0, node: "n2", from: "n1" }, 1_000);
    expect(events(effects)).toEqual(["suspect n2: no ack to direct or indirect probes"]);
    // Three members: nobody else can confirm, so the timeout is min from the start.
    expect(effects).toContainEqual({ kind: "suspicion-due", node: "n2", at: 5_000 });
    expect(table.suspicionDue("n2", 4_999)).toEqual([{ kind: "suspicion-due", node: "n2", at: 5_000 }]);
    expect(events(table.suspicionDue("n2", 5_000))).toEqual(["dead n2: suspicion timed out after 4.0s with 0 of 0 confirmations"]);
    expect(table.get("n2")!.state).toBe("dead");
  });

  test("confirmations from other members shorten the suspicion and are passed on", () => {
    const table = tableWith("n2", "n3", "n4", "n5");
    const first = table.onSuspect({ type: "suspect", incarnation: 0, node: "n5", from: "n2" }, 0);
    expect(first).toContainEqual({ kind: "suspicion-due", node: "n5", at: 24_000 });
    const second = table.onSuspect({ type: "suspect", incarnation: 0, node: "n5", from: "n3" }, 1_000);
    expect(kinds(second)).toEqual(["broadcast", "suspicion-due"]);
    expect(table.onSuspect({ type: "suspect", incarnation: 0, node: "n5", from: "n3" }, 1_000)).toEqual([]);
    expect(table.onSuspect({ type: "suspect", incarnation: 0, node: "n5", from: "n4" }, 2_000)).toContainEqual({ kind: "suspicion-due", node: "n5", at: 4_000 });
  });

  test("a higher incarnation clears a suspicion: alive again", () => {
    const table = tableWith("n2");
    table.onSuspect({ type: "suspect", incarnation: 0, node: "n2", from: "n1" }, 0);
    const effects = table.onAlive(alive("n2", 1), 500, "gossip from n3:7946");
    expect(kinds(effects)).toEqual(["suspicion-cleared", "broadcast", "event:alive-again"]);
    expect(events(effects)[0]).toContain("refuted the suspicion (incarnation 1");
    expect(table.suspicionDue("n2", 10_000)).toEqual([]);
  });

  test("stale news loses: an alive at the same incarnation does not clear a suspicion, an old suspect does not touch a newer alive", () => {
    const table = tableWith("n2");
    table.onSuspect({ type: "suspect", incarnation: 0, node: "n2", from: "n1" }, 0);
    expect(table.onAlive(alive("n2", 0), 1, "gossip")).toEqual([]);
    expect(table.get("n2")!.state).toBe("suspect");
    table.onAlive(alive("n2", 3), 2, "gossip");
    expect(table.onSuspect({ type: "suspect", incarnation: 2, node: "n2", from: "n3" }, 3)).toEqual([]);
    expect(table.onDead({ type: "dead", incarnation: 2, node: "n2", from: "n3" }, 3)).toEqual([]);
    expect(table.get("n2")!.state).toBe("alive");
  });

  test("this node refutes a suspicion or a death with a higher incarnation", () => {
    const table = tableWith("n2");
    const refuted = table.onSuspect({ type: "suspect", incarnation: 0, node: "n1", from: "n2" }, 0);
    expect(refuted).toEqual([
      { kind: "refuted", claimedIncarnation: 0 },
      { kind: "broadcast", message: alive("n1", 1) },
    ]);
    expect(table.onDead({ type: "dead", incarnation: 5, node: "n1", from: "n2" }, 0)).toContainEqual({ kind: "broadcast", message: alive("n1", 6) });
    expect(table.self).toMatchObject({ state: "alive", incarnation: 6 });
  });

  test("a stale claim about this node is answered with its current alive, without a new incarnation", () => {
    const table = tableWith("n2");
    table.onSuspect({ type: "suspect", incarnation: 0, node: "n1", from: "n2" }, 0);
    expect(table.onSuspect({ type: "suspect", incarnation: 0, node: "n1", from: "n3" }, 1)).toEqual([{ kind: "broadcast", message: alive("n1", 1) }]);
  });

  test("someone else's view of this node at a higher incarnation is refuted; our own alive coming back is not", () => {
    const table = tableWith();
    expect(table.onAlive(alive("n1", 0), 0, "gossip")).toEqual([]);
    expect(kinds(table.onAlive(alive("n1", 4), 0, "push-pull"))).toEqual(["refuted", "broadcast"]);
    expect(table.self.incarnation).toBe(5);
  });

  test("a dead message from the member itself means it left", () => {
    const table = tableWith("n2");
    expect(events(table.onDead({ type: "dead", incarnation: 0, node: "n2", from: "n2" }, 0))).toEqual(["left n2: left the cluster"]);
    expect(table.get("n2")!.state).toBe("left");
    expect(table.onDead({ type: "dead", incarnation: 0, node: "n2", from: "n3" }, 0)).toEqual([]);
  });

  test("a dead member comes back with a higher incarnation", () => {
    const table = tableWith("n2");
    table.onDead({ type: "dead", incarnation: 0, node: "n2", from: "n3" }, 0);
    expect(events(table.onAlive(alive("n2", 1), 10, "gossip"))[0]).toStartWith("alive-again n2: came back after being dead");
  });

  test("a second address for a live member is a conflict and is ignored; a dead member's name can be taken", () => {
    const table = tableWith("n2");
    expect(table.onAlive(alive("n2", 1, { address: "10.9.9.9:7946" }), 0, "gossip")).toEqual([{ kind: "conflict", node: "n2", address: "10.9.9.9:7946" }]);
    table.onDead({ type: "dead", incarnation: 1, node: "n2", from: "n3" }, 0);
    table.onAlive(alive("n2", 2, { address: "10.9.9.9:7946" }), 0, "gossip");
    expect(table.get("n2")).toMatchObject({ state: "alive", address: "10.9.9.9:7946" });
  });

  test("new metadata is an update event", () => {
    const table = tableWith("n2");
    expect(events(table.onAlive(alive("n2", 1, { meta: { role: "overwatch", region: "us" } }), 0, "gossip"))[0]).toStartWith("updated n2");
  });

  test("push-pull merge: a remote dead only makes us suspect; left is taken as is; unknown dead members are not learned", () => {
    const table = tableWith("n2", "n3");
    table.merge([
      { name: "n2", address: "n2:7946", incarnation: 0, state: "dead", meta },
      { name: "n3", address: "n3:7946", incarnation: 0, state: "left", meta },
      { name: "n4", address: "n4:7946", incarnation: 0, state: "alive", meta },
      { name: "n5", address: "n5:7946", incarnation: 0, state: "dead", meta },
    ], 0, "push-pull with n2:7946");
    expect(table.all().map((m) => `${m.name}=${m.state}`)).toEqual(["n1=alive", "n2=suspect", "n3=left", "n4=alive"]);
  });

  test("leave marks this node left and hands back the announcement; reap forgets the long dead", () => {
    const table = tableWith("n2", "n3");
    table.onDead({ type: "dead", incarnation: 0, node: "n2", from: "n3" }, 1_000);
    expect(table.reap(30_999, 30_000)).toEqual([]);
    expect(table.reap(31_000, 30_000).map((m) => m.name)).toEqual(["n2"]);
    expect(table.leave(40_000)).toEqual({ type: "dead", incarnation: 0, node: "n1", from: "n1" });
    expect(table.self.state).toBe("left");
    expect(table.onSuspect({ type: "suspect", incarnation: 0, node: "n1", from: "n3" }, 40_001)).toEqual([]);
  });

  test("updateSelf raises the incarnation so the new meta wins", () => {
    const table = tableWith();
    expect(table.updateSelf({ role: "overwatch", region: "us" })).toEqual([
      { kind: "broadcast", message: alive("n1", 1, { meta: { role: "overwatch", region: "us" } }) },
    ]);
  });
});
