// SWIM failure detection, one probe per tick: ping the next member of a shuffled round-robin list;
// without an ack within probe_timeout, ask indirect_checks others to ping it for us and, as
// memberlist does, also ping it over a stream (TCP gets through where UDP is lossy or filtered);
// with no ack of either kind by the end of the probe interval, suspect it. Lifeguard: indirect probers send a nack when the target
// stays silent, and missing nacks (or acks) count against our own health score, which stretches
// our timing instead of letting a struggling node accuse healthy ones.

import type { Clock } from "../lib/clock.ts";
import type { AckRegistry } from "./acks.ts";
import type { Awareness } from "./awareness.ts";
import type { GossipCounters } from "./counters.ts";
import type { Member } from "./member-table.ts";
import type { IndirectPing, Message, Ping } from "./messages.ts";
import { pickRandom, type Random, randomInt, shuffle } from "./random.ts";
import type { GossipTuning } from "./tuning.ts";

export interface ProbeContext {
  readonly self: string;
  readonly tuning: GossipTuning;
  readonly clock: Clock;
  readonly random: Random;
  readonly acks: AckRegistry;
  readonly awareness: Awareness;
  readonly counters: GossipCounters;
  members(): Member[];
  member(name: string): Member | undefined;
  /** Sends messages in one packet, with broadcasts piggybacked. */
  send(to: string, messages: Message[]): void;
  /** The fallback ping: resolves true when `target` acks over a stream within timeoutMs; never rejects. */
  pingOverStream(target: Member, ping: Ping, timeoutMs: number): Promise<boolean>;
  /** No ack by the end of the probe: the caller raises the suspicion. */
  failed(target: Member, incarnation: number): void;
  /** Called when the round-robin list wraps, before it is reshuffled: the time to reap the long dead. */
  wrapped(): void;
  active(): boolean;
}

export class Prober {
  private order: string[] = [];
  private index = 0;

  constructor(private readonly ctx: ProbeContext) {}

  /** The delay before the next probe: the probe interval, stretched while our health score is poor. */
  interval(): number {
    return this.ctx.awareness.scale(this.ctx.tuning.probe_interval);
  }

  /** Probes the next member, if there is one to probe. */
  tick(): void {
    const target = this.next();
    if (target) this.probe(target);
  }

  /** A member that just joined goes somewhere in the rest of this pass, so it is probed soon. */
  add(name: string): void {
    if (this.order.includes(name)) return;
    const at = this.index + randomInt(this.ctx.random, this.order.length - this.index + 1);
    this.order.splice(at, 0, name);
  }

  /** Pings `target` on behalf of the member at `from`, and acks (or nacks) back to it. */
  serveIndirect(request: IndirectPing, from: string): void {
    const { ctx } = this;
    ctx.counters.indirectProbesServed++;
    const seq = ctx.acks.next();
    let answered = false;
    ctx.acks.expect(seq, { ack: () => {
      answered = true;
      ctx.send(from, [{ type: "ack", seq: request.seq }]);
    } }, ctx.tuning.probe_interval);
    ctx.send(request.address, [{ type: "ping", seq, target: request.target }]);
    if (request.nack) {
      ctx.clock.setTimeout(() => {
        if (!answered && ctx.active()) ctx.send(from, [{ type: "nack", seq: request.seq }]);
      }, ctx.tuning.probe_timeout);
    }
  }

  private next(): Member | undefined {
    let wrapped = false;
    for (;;) {
      if (this.index >= this.order.length) {
        if (wrapped) return undefined;
        wrapped = true;
        this.ctx.wrapped();
        this.order = shuffle(this.ctx.members().map((m) => m.name), this.ctx.random);
        this.index = 0;
      }
      const member = this.ctx.member(this.order[this.index++]!);
      if (member && member.name !== this.ctx.self && (member.state === "alive" || member.state === "suspect")) return member;
    }
  }

  private probe(target: Member): void {
    const { ctx } = this;
    ctx.counters.probes++;
    const interval = this.interval();
    const timeout = ctx.awareness.scale(ctx.tuning.probe_timeout);
    const incarnation = target.incarnation;
    const seq = ctx.acks.next();
    const outcome: Outcome = { acked: false, nacks: 0, expectedNacks: 0, fallback: undefined };
    ctx.acks.expect(seq, { ack: () => (outcome.acked = true), nack: () => outcome.nacks++ }, interval);
    const ping: Ping = { type: "ping", seq, target: target.name };
    // A suspect is told so with the ping, giving it the chance to refute at once; the suspicion goes
    // first so that the ack it answers with already carries the refutation.
    const suspect: Message = { type: "suspect", incarnation, node: target.name, from: ctx.self };
    ctx.send(target.address, target.state === "alive" ? [ping] : [suspect, ping]);

    ctx.clock.setTimeout(() => {
      if (outcome.acked || !ctx.active()) return;
      const helpers = pickRandom(ctx.members(), ctx.tuning.indirect_checks, ctx.random,
        (m) => m.state === "alive" && m.name !== ctx.self && m.name !== target.name);
      for (const helper of helpers) {
        ctx.send(helper.address, [{ type: "indirect-ping", seq, target: target.name, address: target.address, nack: true }]);
      }
      outcome.expectedNacks = helpers.length;
      ctx.counters.indirectProbes += helpers.length;
      ctx.counters.fallbackPings++;
      outcome.fallback = ctx.pingOverStream(target, ping, interval - timeout);
    }, timeout);

    ctx.clock.setTimeout(() => void this.conclude(target, incarnation, outcome), interval);
  }

  private async conclude(target: Member, incarnation: number, outcome: Outcome): Promise<void> {
    const { ctx } = this;
    if (!ctx.active()) return;
    if (outcome.acked) {
      ctx.awareness.applyDelta(-1);
      return;
    }
    // The fallback's own deadline is the end of the interval, so this wait is short.
    if (outcome.fallback && (await outcome.fallback)) {
      ctx.counters.fallbackAcks++;
      return;
    }
    if (!ctx.active()) return;
    // Helpers that did not even nack suggest the trouble is on our side, not the target's.
    ctx.awareness.applyDelta(outcome.expectedNacks > 0 ? Math.max(0, outcome.expectedNacks - outcome.nacks) : 1);
    ctx.counters.probeFailures++;
    ctx.failed(target, incarnation);
  }
}

interface Outcome {
  acked: boolean;
  nacks: number;
  expectedNacks: number;
  fallback: Promise<boolean> | undefined;
}
