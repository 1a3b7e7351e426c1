// One gossip node: SWIM membership as memberlist runs it, over a Transport, with every packet and
// stream frame encrypted. This file is the shell around the pure MemberTable: it runs the loops
// (probe, gossip, push-pull, reconnect), turns packets into table calls and carries out the
// effects the table returns (broadcasts, events, suspicion timers).

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { errorMessage } from "../lib/errors.ts";
import { AckRegistry } from "./acks.ts";
import { Awareness } from "./awareness.ts";
import { BroadcastQueue } from "./broadcast-queue.ts";
import { COMPOUND_HEADER, COMPOUND_PART_OVERHEAD, decodePacket, encodeMessage, packetOf } from "./codec.ts";
import { type DropReason, emptyCounters, type GossipCounters } from "./counters.ts";
import { ENCRYPTION_OVERHEAD, open, seal } from "./crypto.ts";
import type { Keyring } from "./keyring.ts";
import { type Effect, type Member, type MemberEvent, MemberTable } from "./member-table.ts";
import type { MemberMeta, MembershipMessage, Message, Ping, PushPull, UserMessage } from "./messages.ts";
import { Prober } from "./prober.ts";
import { answerStream, exchangeState, pingOverStream, type StreamParty } from "./streams.ts";
import { pickRandom, type Random } from "./random.ts";
import { SeenMessages } from "./seen-messages.ts";
import type { Stream, Transport } from "./transport.ts";
import { type GossipTuning, LAN_DEFAULTS, pushPullIntervalMs, retransmitLimit, validateTuning } from "./tuning.ts";

/** The application's share of push-pull: a blob of its own state, sent whole and merged by the receiver. */
export interface StateDelegate {
  localState(join: boolean): Uint8Array;
  mergeRemoteState(state: Uint8Array, join: boolean): void;
}

export interface ApplicationMessage {
  origin: string;
  payload: Uint8Array;
}

export interface MembershipOptions {
  /** Unique in the cluster (identity.node_id). */
  name: string;
  meta: MemberMeta;
  transport: Transport;
  keyring: Keyring;
  clock: Clock;
  random?: Random;
  tuning?: Partial<GossipTuning>;
  logger?: Logger;
  /** The address others dial; defaults to the transport's local address. */
  advertiseAddress?: string;
  state?: StateDelegate;
}

export interface JoinResult {
  joined: string[];
  failed: { address: string; error: string }[];
}

type Phase = "new" | "running" | "leaving" | "stopped";

/** How long a message id is remembered; see seen-messages.ts. */
const SEEN_WINDOW_MS = 120_000;
const WRONG_KEY_WARNING_INTERVAL_MS = 60_000;
/** How long leave() waits by default for its announcement to go out (Serf's BroadcastTimeout). */
const LEAVE_TIMEOUT_MS = 5_000;

export class Membership {
  readonly name: string;
  private lastWrongKeyWarning = -Infinity;
  readonly tuning: GossipTuning;
  private readonly transport: Transport;
  private readonly keyring: Keyring;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly stateDelegate: StateDelegate | undefined;
  private readonly table: MemberTable;
  private readonly prober: Prober;
  private readonly acks: AckRegistry;
  private readonly awareness: Awareness;
  private readonly counters = emptyCounters();
  /** Membership changes go out before application messages, as memberlist sends its own queue first. */
  private readonly memberQueue: BroadcastQueue;
  private readonly appQueue: BroadcastQueue;
  private readonly seen = new SeenMessages(SEEN_WINDOW_MS);
  private readonly loops = new Map<string, TimerHandle>();
  private readonly suspicionTimers = new Map<string, TimerHandle>();
  /** Reaped dead members, still worth a reconnect attempt (Serf's failed-member list). */
  private readonly failed = new Map<string, { address: string; since: number }>();
  private readonly seeds = new Set<string>();
  private readonly eventListeners = new Set<(event: MemberEvent) => void>();
  private readonly messageHandlers = new Set<(message: ApplicationMessage) => void>();
  private readonly party: StreamParty;
  private phase: Phase = "new";

  constructor(options: MembershipOptions) {
    this.name = options.name;
    this.tuning = { ...LAN_DEFAULTS, ...options.tuning };
    validateTuning(this.tuning);
    this.transport = options.transport;
    this.keyring = options.keyring;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? createLogger({ level: "error", format: "text" }, { write: () => {} })).with({ gossip: options.name });
    this.stateDelegate = options.state;
    const address = options.advertiseAddress ?? options.transport.localAddress;
    this.table = new MemberTable({ name: options.name, address, meta: options.meta }, this.tuning, this.clock.now());
    this.acks = new AckRegistry(this.clock);
    this.awareness = new Awareness(this.tuning.awareness_max_multiplier);
    this.memberQueue = new BroadcastQueue(this.tuning.max_queue_depth);
    this.appQueue = new BroadcastQueue(this.tuning.max_queue_depth);
    this.prober = new Prober({
      self: this.name,
      tuning: this.tuning,
      clock: this.clock,
      random: this.random,
      acks: this.acks,
      awareness: this.awareness,
      counters: this.counters,
      members: () => this.table.all(),
      member: (name) => this.table.get(name),
      send: (to, messages) => this.send(to, messages),
      pingOverStream: (target, ping, timeoutMs) => this.pingOverStream(target, ping, timeoutMs),
      failed: (target, incarnation) => {
        this.apply(this.table.onSuspect({ type: "suspect", incarnation, node: target.name, from: this.name }, this.clock.now()));
      },
      wrapped: () => this.reap(),
      active: () => this.phase === "running",
    });
    this.party = {
      name: this.name,
      keyring: this.keyring,
      timeoutMs: this.tuning.stream_timeout,
      localState: (join) => this.localState(join),
      dropped: (reason) => this.drop(reason),
    };
    this.transport.onPacket((data, from) => this.receivePacket(data, from));
    this.transport.onStream((stream) => void this.serveStream(stream));
  }

  /** Starts the loops and announces this node. Call join() next to meet the cluster. */
  start(): void {
    if (this.phase !== "new") throw new Error(`gossip: cannot start a node that is ${this.phase}`);
    this.phase = "running";
    this.queueMembership(this.table.selfAlive());
    const t = this.tuning;
    this.loop("probe", () => this.prober.interval(), () => this.prober.tick());
    this.loop("gossip", () => t.gossip_interval, () => this.gossip());
    if (t.push_pull_interval > 0) this.loop("push-pull", () => pushPullIntervalMs(t, this.table.size), () => this.pushPullRandom());
    if (t.reconnect_interval > 0) this.loop("reconnect", () => t.reconnect_interval, () => this.reconnect());
  }

  /** Full state exchange with each address; the addresses are also retried later if this node ends up alone. */
  async join(addresses: readonly string[]): Promise<JoinResult> {
    if (this.phase !== "running") throw new Error("gossip: join needs a started node");
    const others = [...new Set(addresses)].filter((a) => a !== this.table.self.address && a !== this.transport.localAddress);
    others.forEach((a) => this.seeds.add(a));
    const outcomes = await Promise.allSettled(others.map((a) => this.pushPull(a, true)));
    const result: JoinResult = { joined: [], failed: [] };
    outcomes.forEach((outcome, i) => {
      const address = others[i]!;
      if (outcome.status === "fulfilled") result.joined.push(address);
      else result.failed.push({ address, error: errorMessage(outcome.reason) });
    });
    return result;
  }

  /** Tells the cluster this node is leaving, and waits (up to timeoutMs) until the news has gone out. */
  async leave(timeoutMs = LEAVE_TIMEOUT_MS): Promise<void> {
    if (this.phase !== "running") return;
    this.phase = "leaving";
    for (const name of ["probe", "push-pull", "reconnect"]) this.stopLoop(name);
    const dead = this.table.leave(this.clock.now());
    const listeners = this.table.all().some((m) => m.name !== this.name && (m.state === "alive" || m.state === "suspect"));
    const sent = new Promise<void>((resolve) => {
      this.memberQueue.queue(encodeMessage(dead), { key: `member:${this.name}`, onDone: resolve });
    });
    if (!listeners) return;
    let timer: TimerHandle | undefined;
    await Promise.race([sent, new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, timeoutMs)))]);
    timer?.cancel();
  }

  /** Stops everything without a word to the cluster (after leave(), or to simulate a crash). */
  async shutdown(): Promise<void> {
    if (this.phase === "stopped") return;
    this.phase = "stopped";
    for (const name of [...this.loops.keys()]) this.stopLoop(name);
    for (const timer of this.suspicionTimers.values()) timer.cancel();
    this.suspicionTimers.clear();
    this.acks.clear();
    await this.transport.close();
  }

  /**
   * Spreads an application message to every member (epidemically: each node that sees it new passes
   * it on). With a key, it replaces a message with the same key this node has not finished sending.
   * The sender's own handlers are not called.
   */
  publish(payload: Uint8Array, options: { key?: string } = {}): void {
    if (this.phase !== "running") throw new Error(`gossip: cannot publish on a node that is ${this.phase}`);
    if (payload.length > this.maxPayloadBytes) {
      throw new Error(`gossip message: ${payload.length} bytes of payload, at most ${this.maxPayloadBytes} fit in one packet`);
    }
    const message: UserMessage = { type: "user", id: this.newMessageId(), origin: this.name, payload };
    this.seen.add(message.id, this.clock.now());
    this.counters.broadcastsPruned += this.appQueue.queue(encodeMessage(message), options.key === undefined ? {} : { key: `user:${options.key}` });
  }

  /** The largest payload publish() accepts: what fits in one packet beside the message's own header. */
  get maxPayloadBytes(): number {
    const header = encodeMessage({ type: "user", id: "0".repeat(16), origin: this.name, payload: new Uint8Array() }).length;
    return this.broadcastBudget() - COMPOUND_PART_OVERHEAD - header;
  }

  onEvent(listener: (event: MemberEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onMessage(handler: (message: ApplicationMessage) => void): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  /** Every known member, this node included, as copies. */
  members(): Member[] {
    return this.table.all().map(copyMember);
  }

  member(name: string): Member | undefined {
    const m = this.table.get(name);
    return m && copyMember(m);
  }

  /** Changes this node's meta; the new incarnation makes the change win everywhere. */
  updateMeta(meta: MemberMeta): void {
    this.apply(this.table.updateSelf(meta));
  }

  /** Lifeguard's health score: 0 is healthy; probes are slowed by score + 1. */
  get healthScore(): number {
    return this.awareness.score;
  }

  stats(): GossipCounters {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  private loop(name: string, interval: () => number, tick: () => void): void {
    const run = () => {
      this.loops.set(name, this.clock.setTimeout(run, interval()));
      tick();
    };
    // A random first delay keeps nodes started together from ticking in lockstep.
    this.loops.set(name, this.clock.setTimeout(run, Math.floor(this.random() * interval())));
  }

  private stopLoop(name: string): void {
    this.loops.get(name)?.cancel();
    this.loops.delete(name);
  }

  private receivePacket(data: Uint8Array, from: string): void {
    if (this.phase !== "running" && this.phase !== "leaving") return;
    this.counters.packetsIn++;
    this.counters.bytesIn += data.length;
    if (data.length > this.tuning.packet_bytes) return this.drop("oversized");
    const opened = open(this.keyring, data, "packet");
    if (!opened.ok) return this.drop(opened.reason);
    const decoded = decodePacket(opened.plaintext);
    if (!decoded.ok) return this.drop(decoded.reason);
    for (const message of decoded.value) this.handle(message, from);
  }

  private handle(message: Message, from: string): void {
    const now = this.clock.now();
    switch (message.type) {
      case "ping":
        if (message.target !== this.name) return this.drop("misdirected");
        return this.send(from, [{ type: "ack", seq: message.seq }]);
      case "indirect-ping":
        return this.prober.serveIndirect(message, from);
      case "ack":
        this.acks.ack(message.seq);
        return;
      case "nack":
        this.acks.nack(message.seq);
        return;
      case "alive":
        return this.apply(this.table.onAlive(message, now, `gossip from ${from}`));
      case "suspect":
        return this.apply(this.table.onSuspect(message, now));
      case "dead":
        return this.apply(this.table.onDead(message, now));
      case "user":
        return this.receiveUserMessage(message);
    }
  }

  private receiveUserMessage(message: UserMessage): void {
    if (!this.seen.add(message.id, this.clock.now())) {
      this.counters.userDuplicates++;
      return;
    }
    this.counters.userMessages++;
    this.counters.broadcastsPruned += this.appQueue.queue(encodeMessage(message));
    for (const handler of this.messageHandlers) {
      try {
        handler({ origin: message.origin, payload: message.payload });
      } catch (err) {
        this.log.error("gossip message handler failed", { origin: message.origin, error: errorMessage(err) });
      }
    }
  }

  /** Sends messages in one packet, filling the room left with queued broadcasts. */
  private send(to: string, messages: Message[]): void {
    const parts = messages.map(encodeMessage);
    const used = parts.reduce((sum, p) => sum + p.length + COMPOUND_PART_OVERHEAD, 0);
    this.sendParts(to, [...parts, ...this.takeBroadcasts(this.broadcastBudget() - used)]);
  }

  private sendParts(to: string, parts: Uint8Array[]): void {
    if (this.phase === "stopped") return;
    const sealed = seal(this.keyring, packetOf(parts), "packet");
    this.counters.packetsOut++;
    this.counters.bytesOut += sealed.length;
    this.transport.sendPacket(to, sealed);
  }

  /** Room for messages in a compound packet: the packet limit less encryption and compound headers. */
  private broadcastBudget(): number {
    return this.tuning.packet_bytes - ENCRYPTION_OVERHEAD - COMPOUND_HEADER;
  }

  private takeBroadcasts(budget: number): Uint8Array[] {
    const limit = retransmitLimit(this.tuning, this.table.size);
    const members = this.memberQueue.take(budget, COMPOUND_PART_OVERHEAD, limit);
    const used = members.reduce((sum, p) => sum + p.length + COMPOUND_PART_OVERHEAD, 0);
    return [...members, ...this.appQueue.take(budget - used, COMPOUND_PART_OVERHEAD, limit)];
  }

  /** A gossip round: queued broadcasts to a few random members, the recently dead included so they can refute. */
  private gossip(): void {
    const now = this.clock.now();
    const targets = pickRandom(this.table.all(), this.tuning.gossip_nodes, this.random, (m) =>
      m.name !== this.name &&
      (m.state === "alive" || m.state === "suspect" || (m.state === "dead" && now - m.since < this.tuning.gossip_to_the_dead_time)));
    for (const target of targets) {
      const parts = this.takeBroadcasts(this.broadcastBudget());
      if (parts.length === 0) return;
      this.sendParts(target.address, parts);
    }
  }

  private pushPullRandom(): void {
    const [peer] = pickRandom(this.table.all(), 1, this.random, (m) => m.name !== this.name && m.state === "alive");
    if (peer) this.pushPull(peer.address, false).catch((err) => this.log.debug("gossip push-pull failed", { peer: peer.name, error: errorMessage(err) }));
  }

  /** Serf's reconnect: retry one failed member now and then, or the seeds when this node knows no one alive. */
  private reconnect(): void {
    const now = this.clock.now();
    for (const [name, f] of this.failed) if (now - f.since >= this.tuning.reconnect_timeout) this.failed.delete(name);
    const candidates = new Set([...this.failed.values()].map((f) => f.address));
    for (const m of this.table.all()) if (m.state === "dead") candidates.add(m.address);
    const alone = !this.table.all().some((m) => m.name !== this.name && m.state === "alive");
    if (alone) this.seeds.forEach((a) => candidates.add(a));
    const [address] = pickRandom([...candidates], 1, this.random);
    if (address) this.pushPull(address, true).catch((err) => this.log.debug("gossip reconnect failed", { address, error: errorMessage(err) }));
  }

  private async pushPull(address: string, join: boolean): Promise<void> {
    this.counters.pushPulls++;
    this.counters.streamsOut++;
    try {
      const stream = await this.transport.openStream(address, this.tuning.stream_timeout);
      try {
        this.merge(await exchangeState(stream, this.party, join), `push-pull with ${address}`);
      } finally {
        stream.close();
      }
    } catch (err) {
      this.counters.pushPullFailures++;
      throw err;
    }
  }

  private async pingOverStream(target: Member, ping: Ping, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    this.counters.streamsOut++;
    try {
      const stream = await this.transport.openStream(target.address, timeoutMs);
      try {
        return await pingOverStream(stream, this.party, ping, Math.max(0, deadline - this.clock.now()));
      } finally {
        stream.close();
      }
    } catch {
      return false;
    }
  }

  private async serveStream(stream: Stream): Promise<void> {
    this.counters.streamsIn++;
    try {
      if (this.phase !== "running" && this.phase !== "leaving") return;
      const remote = await answerStream(stream, this.party);
      if (remote) this.merge(remote, `push-pull from ${stream.remoteAddress}`);
    } catch (err) {
      this.log.debug("gossip stream failed", { peer: stream.remoteAddress, error: errorMessage(err) });
    } finally {
      stream.close();
    }
  }

  private localState(join: boolean): PushPull {
    const members = this.table.all().map((m) => ({ name: m.name, address: m.address, incarnation: m.incarnation, state: m.state, meta: m.meta }));
    return { join, members, state: this.stateDelegate?.localState(join) ?? new Uint8Array() };
  }

  private merge(remote: PushPull, via: string): void {
    if (this.phase === "stopped") return;
    this.apply(this.table.merge(remote.members, this.clock.now(), via));
    if (!this.stateDelegate) return;
    try {
      this.stateDelegate.mergeRemoteState(remote.state, remote.join);
    } catch (err) {
      this.log.error("gossip state merge failed", { via, error: errorMessage(err) });
    }
  }

  private reap(): void {
    for (const m of this.table.reap(this.clock.now(), this.tuning.gossip_to_the_dead_time)) {
      if (m.state === "dead" && this.tuning.reconnect_interval > 0) this.failed.set(m.name, { address: m.address, since: m.since });
    }
  }

  private apply(effects: Effect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case "broadcast":
          this.queueMembership(effect.message);
          break;
        case "event":
          this.emit(effect.event);
          break;
        case "suspicion-due":
          this.armSuspicion(effect.node, effect.at);
          break;
        case "suspicion-cleared":
          this.suspicionTimers.get(effect.node)?.cancel();
          this.suspicionTimers.delete(effect.node);
          break;
        case "refuted":
          this.counters.refutations++;
          // Lifeguard: being suspected hints that we are the slow one.
          this.awareness.applyDelta(1);
          this.log.warn("gossip refuted a suspicion of this node", { claimed_incarnation: effect.claimedIncarnation });
          break;
        case "conflict":
          this.counters.nameConflicts++;
          this.log.warn("gossip name conflict: ignoring a second address for a member", { member: effect.node, address: effect.address });
          break;
      }
    }
  }

  private queueMembership(message: MembershipMessage): void {
    this.counters.broadcastsPruned += this.memberQueue.queue(encodeMessage(message), { key: `member:${message.node}` });
  }

  private armSuspicion(node: string, at: number): void {
    this.suspicionTimers.get(node)?.cancel();
    const timer = this.clock.setTimeout(() => {
      this.suspicionTimers.delete(node);
      this.apply(this.table.suspicionDue(node, this.clock.now()));
    }, Math.max(0, at - this.clock.now()));
    this.suspicionTimers.set(node, timer);
  }

  private emit(event: MemberEvent): void {
    const { member } = event;
    if (event.type === "suspect") this.counters.suspicions++;
    if (event.type === "joined") this.prober.add(member.name);
    if (event.type === "joined" || event.type === "alive-again") this.failed.delete(member.name);
    const level = event.type === "dead" || event.type === "suspect" ? "warn" : "info";
    this.log[level](`gossip member ${event.type}`, { member: member.name, address: member.address, incarnation: member.incarnation, reason: event.reason });
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error("gossip event listener failed", { error: errorMessage(err) });
      }
    }
  }

  private drop(reason: DropReason): void {
    const count = (this.counters.dropped[reason] ?? 0) + 1;
    this.counters.dropped[reason] = count;
    // A wrong key is a misconfigured (or hostile) node, worth an operator's eye; once a minute is enough.
    const now = this.clock.now();
    if (reason === "wrong-key" && now - this.lastWrongKeyWarning >= WRONG_KEY_WARNING_INTERVAL_MS) {
      this.lastWrongKeyWarning = now;
      this.log.warn("gossip from a node with another encryption key was dropped", { dropped_so_far: count });
    } else {
      this.log.debug("gossip dropped input", { reason });
    }
  }

  private newMessageId(): string {
    let id = "";
    for (let i = 0; i < 4; i++) id += Math.floor(this.random() * 0x10000).toString(16).padStart(4, "0");
    return id;
  }
}

function copyMember(m: Member): Member {
  return { ...m, meta: { ...m.meta } };
}
