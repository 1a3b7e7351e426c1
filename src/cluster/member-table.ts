// The SWIM membership state machine, kept pure: it holds who is alive, suspect, dead or left at
// which incarnation, and turns each alive / suspect / dead message into effects (what to re-gossip,
// which event to raise, when a suspicion falls due). It does no I/O and arms no timers; membership.ts
// carries the effects out. The rules follow memberlist's aliveNode / suspectNode / deadNode:
//   - a higher incarnation always wins; at the same incarnation dead beats suspect beats alive;
//   - a node that hears itself suspected or declared dead refutes with a higher incarnation;
//   - a dead message sent by the node about itself means it left.

import type { Alive, Dead, MemberMeta, MemberState, MembershipMessage, PushPullMember, Suspect } from "./messages.ts";
import { Suspicion } from "./suspicion.ts";
import { expectedConfirmations, type GossipTuning, suspicionMinMs } from "./tuning.ts";

export interface Member {
  name: string;
  address: string;
  incarnation: number;
  state: MemberState;
  meta: MemberMeta;
  /** Clock time of the last state change. */
  since: number;
}

export type MemberEventType = "joined" | "updated" | "suspect" | "alive-again" | "dead" | "left";

export interface MemberEvent {
  type: MemberEventType;
  /** A copy of the member as it is after the change. */
  member: Member;
  reason: string;
}

export type Effect =
  | { kind: "broadcast"; message: MembershipMessage }
  | { kind: "event"; event: MemberEvent }
  /** (Re)arm the suspicion timer of `node` to fire at `at`. */
  | { kind: "suspicion-due"; node: string; at: number }
  | { kind: "suspicion-cleared"; node: string }
  /** We refuted a claim that we are suspect or dead. */
  | { kind: "refuted"; claimedIncarnation: number }
  /** Two members claim the same name from different addresses; the newcomer was ignored. */
  | { kind: "conflict"; node: string; address: string };

type Tuning = Pick<GossipTuning, "suspicion_mult" | "suspicion_max_timeout_mult" | "probe_interval">;

export class MemberTable {
  private readonly byName = new Map<string, Member>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly selfName: string;
  private leaving = false;

  constructor(
    self: { name: string; address: string; meta: MemberMeta },
    private readonly tuning: Tuning,
    now: number,
  ) {
    this.selfName = self.name;
    this.byName.set(self.name, { ...self, meta: { ...self.meta }, incarnation: 0, state: "alive", since: now });
  }

  get self(): Member {
    return this.byName.get(this.selfName)!;
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Member | undefined {
    return this.byName.get(name);
  }

  all(): Member[] {
    return [...this.byName.values()];
  }

  /** The alive message that announces this node as it is now. */
  selfAlive(): Alive {
    const self = this.self;
    return { type: "alive", incarnation: self.incarnation, node: self.name, address: self.address, meta: { ...self.meta } };
  }

  /** `via` says where the message came from, for the event's reason. */
  onAlive(msg: Alive, now: number, via: string): Effect[] {
    const known = this.byName.get(msg.node);
    if (msg.node === this.selfName) return this.aliveAboutSelf(msg);
    if (!known) {
      const member: Member = { name: msg.node, address: msg.address, incarnation: msg.incarnation, state: "alive", meta: { ...msg.meta }, since: now };
      this.byName.set(msg.node, member);
      return [{ kind: "broadcast", message: msg }, event("joined", member, `learned from ${via}`)];
    }
    if (msg.incarnation <= known.incarnation) return [];
    if (msg.address !== known.address && (known.state === "alive" || known.state === "suspect")) {
      return [{ kind: "conflict", node: msg.node, address: msg.address }];
    }
    const before = { state: known.state, address: known.address, meta: known.meta };
    known.incarnation = msg.incarnation;
    known.address = msg.address;
    known.meta = { ...msg.meta };
    const effects: Effect[] = [...this.clearSuspicion(msg.node), { kind: "broadcast", message: msg }];
    if (before.state !== "alive") {
      known.state = "alive";
      known.since = now;
      const why = before.state === "suspect" ? "refuted the suspicion" : `came back after being ${before.state}`;
      effects.push(event("alive-again", known, `${why} (incarnation ${msg.incarnation}, via ${via})`));
    } else if (before.address !== msg.address || !sameMeta(before.meta, msg.meta)) {
      effects.push(event("updated", known, `new address or meta at incarnation ${msg.incarnation} (via ${via})`));
    }
    return effects;
  }

  onSuspect(msg: Suspect, now: number): Effect[] {
    const known = this.byName.get(msg.node);
    if (!known) return [];
    if (msg.incarnation < known.incarnation) return this.staleClaimAboutSelf(msg);
    const running = this.suspicions.get(msg.node);
    if (running) {
      // Another member independently suspects it: the timer shortens, and the news is worth spreading.
      if (!running.confirm(msg.from)) return [];
      return [{ kind: "broadcast", message: msg }, { kind: "suspicion-due", node: msg.node, at: running.deadline }];
    }
    if (known.state !== "alive") return [];
    if (msg.node === this.selfName) return this.leaving ? [] : this.refute(msg.incarnation);
    known.incarnation = msg.incarnation;
    known.state = "suspect";
    known.since = now;
    const k = expectedConfirmations(this.tuning, this.size);
    const min = suspicionMinMs(this.tuning, this.size);
    const suspicion = new Suspicion(msg.from, k, min, min * this.tuning.suspicion_max_timeout_mult, now);
    this.suspicions.set(msg.node, suspicion);
    const reason = msg.from === this.selfName ? "no ack to direct or indirect probes" : `suspected by ${msg.from}`;
    return [
      { kind: "broadcast", message: msg },
      event("suspect", known, reason),
      { kind: "suspicion-due", node: msg.node, at: suspicion.deadline },
    ];
  }

  onDead(msg: Dead, now: number, reason?: string): Effect[] {
    const known = this.byName.get(msg.node);
    if (!known) return [];
    if (msg.incarnation < known.incarnation) return this.staleClaimAboutSelf(msg);
    const effects = this.clearSuspicion(msg.node);
    if (known.state === "dead" || known.state === "left") return effects;
    if (msg.node === this.selfName && !this.leaving) return [...effects, ...this.refute(msg.incarnation)];
    const left = msg.node === msg.from;
    known.incarnation = msg.incarnation;
    known.state = left ? "left" : "dead";
    known.since = now;
    const why = reason ?? (left ? "left the cluster" : `declared dead by ${msg.from}`);
    return [...effects, { kind: "broadcast", message: msg }, event(left ? "left" : "dead", known, why)];
  }

  /** The suspicion timer of `node` fired: dead, unless it refuted meanwhile or the deadline moved. */
  suspicionDue(node: string, now: number): Effect[] {
    const suspicion = this.suspicions.get(node);
    const known = this.byName.get(node);
    if (!suspicion || !known || known.state !== "suspect") return [];
    if (suspicion.deadline > now) return [{ kind: "suspicion-due", node, at: suspicion.deadline }];
    const seconds = ((now - suspicion.startedAt) / 1000).toFixed(1);
    const reason = `suspicion timed out after ${seconds}s with ${suspicion.confirmations} of ${suspicion.k} confirmations`;
    return this.onDead({ type: "dead", incarnation: known.incarnation, node, from: this.selfName }, now, reason);
  }

  /** Merges a peer's full state (push-pull). Like memberlist, a remote "dead" only makes us suspect, so the node can still refute. */
  merge(remote: readonly PushPullMember[], now: number, via: string): Effect[] {
    const effects: Effect[] = [];
    for (const r of remote) {
      if (r.state === "alive") {
        effects.push(...this.onAlive({ type: "alive", incarnation: r.incarnation, node: r.name, address: r.address, meta: r.meta }, now, via));
      } else if (r.state === "left") {
        effects.push(...this.onDead({ type: "dead", incarnation: r.incarnation, node: r.name, from: r.name }, now));
      } else {
        effects.push(...this.onSuspect({ type: "suspect", incarnation: r.incarnation, node: r.name, from: this.selfName }, now));
      }
    }
    return effects;
  }

  /** Starts a graceful leave: this node is marked left and the dead message announcing it is returned. */
  leave(now: number): Dead {
    this.leaving = true;
    const self = this.self;
    self.state = "left";
    self.since = now;
    return { type: "dead", incarnation: self.incarnation, node: self.name, from: self.name };
  }

  /** New metadata for this node: a higher incarnation so the change wins everywhere. */
  updateSelf(meta: MemberMeta): Effect[] {
    const self = this.self;
    self.meta = { ...meta };
    self.incarnation++;
    return [{ kind: "broadcast", message: this.selfAlive() }];
  }

  /** Forgets dead and left members older than `olderThanMs`; returns them. */
  reap(now: number, olderThanMs: number): Member[] {
    const reaped: Member[] = [];
    for (const m of this.byName.values()) {
      if ((m.state === "dead" || m.state === "left") && now - m.since >= olderThanMs && m.name !== this.selfName) {
        this.byName.delete(m.name);
        reaped.push(m);
      }
    }
    return reaped;
  }

  private aliveAboutSelf(msg: Alive): Effect[] {
    const self = this.self;
    if (this.leaving || msg.incarnation < self.incarnation) return [];
    // Our own broadcast coming back is fine; anything else at our incarnation or above is a wrong view of us.
    if (msg.incarnation === self.incarnation && msg.address === self.address && sameMeta(msg.meta, self.meta)) return [];
    return this.refute(msg.incarnation);
  }

  /**
   * Someone still holds an older suspicion of us: our refutation never reached it. memberlist ignores
   * this; we announce our current alive again (without a new incarnation) so the stale view heals
   * before that member's suspicion timer runs out.
   */
  private staleClaimAboutSelf(msg: Suspect | Dead): Effect[] {
    if (msg.node !== this.selfName || this.leaving) return [];
    return [{ kind: "broadcast", message: this.selfAlive() }];
  }

  private refute(claimedIncarnation: number): Effect[] {
    const self = this.self;
    self.incarnation = Math.max(self.incarnation, claimedIncarnation) + 1;
    return [{ kind: "refuted", claimedIncarnation }, { kind: "broadcast", message: this.selfAlive() }];
  }

  private clearSuspicion(node: string): Effect[] {
    if (!this.suspicions.delete(node)) return [];
    return [{ kind: "suspicion-cleared", node }];
  }
}

function event(type: MemberEventType, member: Member, reason: string): Effect {
  return { kind: "event", event: { type, member: { ...member, meta: { ...member.meta } }, reason } };
}

function sameMeta(a: MemberMeta, b: MemberMeta): boolean {
  return a.role === b.role && a.region === b.region;
}
