// A simulated gossip cluster for tests and the benchmark: nodes on a MemoryNetwork, time on a
// ManualClock moved timer by timer (promises settled in between), randomness from a seed.

import { randomBytes } from "node:crypto";
import { ManualClock } from "../../src/lib/clock.ts";
import { Keyring } from "../../src/cluster/keyring.ts";
import type { Member, MemberEvent } from "../../src/cluster/member-table.ts";
import { type ApplicationMessage, Membership, type StateDelegate } from "../../src/cluster/membership.ts";
import { MemoryNetwork, type MemoryTransport } from "../../src/cluster/memory-transport.ts";
import type { MemberMeta, MemberState } from "../../src/cluster/messages.ts";
import { seededRandom } from "../../src/cluster/random.ts";
import type { GossipTuning } from "../../src/cluster/tuning.ts";

export interface SimNode {
  name: string;
  address: string;
  node: Membership;
  transport: MemoryTransport;
  keyring: Keyring;
  events: (MemberEvent & { at: number })[];
  messages: (ApplicationMessage & { at: number })[];
}

export interface SimOptions {
  seed?: number;
  tuning?: Partial<GossipTuning>;
  loss?: number;
  delayMs?: number;
}

export const META: MemberMeta = { role: "overwatch", region: "eu-west" };

export function newKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export class Sim {
  readonly clock = new ManualClock();
  readonly network: MemoryNetwork;
  readonly nodes = new Map<string, SimNode>();
  readonly key = newKey();
  private readonly seed: number;
  private readonly tuning: Partial<GossipTuning> | undefined;
  /** When the simulation started, so tests can speak in elapsed time. */
  readonly t0: number;

  constructor(options: SimOptions = {}) {
    this.seed = options.seed ?? 1;
    this.tuning = options.tuning;
    this.network = new MemoryNetwork(this.clock, seededRandom(this.seed * 7919), { loss: options.loss ?? 0, delayMs: options.delayMs ?? 1 });
    this.t0 = this.clock.now();
  }

  /** Adds and starts a node called `name` at "name:7946". */
  add(name: string, options: { keyring?: Keyring; meta?: MemberMeta; state?: StateDelegate } = {}): SimNode {
    const address = `${name}:7946`;
    const transport = this.network.attach(address);
    const keyring = options.keyring ?? new Keyring(this.key);
    const node = new Membership({
      name,
      meta: options.meta ?? META,
      transport,
      keyring,
      clock: this.clock,
      random: seededRandom(this.seed * 1_000 + this.nodes.size + 1),
      tuning: this.tuning,
      state: options.state,
    });
    const sim: SimNode = { name, address, node, transport, keyring, events: [], messages: [] };
    node.onEvent((event) => sim.events.push({ ...event, at: this.clock.now() }));
    node.onMessage((message) => sim.messages.push({ ...message, at: this.clock.now() }));
    node.start();
    this.nodes.set(name, sim);
    return sim;
  }

  /** Starts `count` nodes n1..n<count>, each joining n1, and runs until all see all alive. */
  async cluster(count: number, maxMs = 30_000): Promise<SimNode[]> {
    const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const nodes = names.map((name) => this.add(name));
    for (const n of nodes.slice(1)) void n.node.join([nodes[0]!.address]);
    await this.runUntil(() => this.allSee(names, names, "alive"), maxMs);
    return nodes;
  }

  get(name: string): SimNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no simulated node ${name}`);
    return node;
  }

  /** The state `observer` holds for `subject`, or undefined when it does not know it. */
  stateOf(observer: string, subject: string): MemberState | undefined {
    return this.get(observer).node.member(subject)?.state;
  }

  allSee(observers: readonly string[], subjects: readonly string[], state: MemberState): boolean {
    return observers.every((o) => subjects.every((s) => this.stateOf(o, s) === state));
  }

  view(observer: string): Record<string, string> {
    return Object.fromEntries(this.get(observer).node.members().map((m: Member) => [m.name, `${m.state}@${m.incarnation}`]));
  }

  elapsed(): number {
    return this.clock.now() - this.t0;
  }

  /** Moves time forward by ms, timer by timer, letting promise callbacks run after each. */
  async run(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    await settle();
    for (let due = this.clock.nextTimerDue(); due !== undefined && due <= end; due = this.clock.nextTimerDue()) {
      this.clock.advance(due - this.clock.now());
      await settle();
    }
    this.clock.advance(end - this.clock.now());
    await settle();
  }

  /** Runs in steps until the condition holds; returns the simulated time it took, or throws after maxMs. */
  async runUntil(condition: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
    const start = this.clock.now();
    while (!condition()) {
      if (this.clock.now() - start >= maxMs) throw new Error(`condition not met within ${maxMs}ms of simulated time`);
      await this.run(stepMs);
    }
    return this.clock.now() - start;
  }

  /** Runs the clock until the promise settles (a join, a leave), and returns its outcome. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => (done = true));
    tracked.catch(() => {});
    await this.runUntil(() => done, maxMs, 10);
    return tracked;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.node.shutdown()));
  }
}

/** Lets pending promise callbacks run, as the event loop would between timers. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
