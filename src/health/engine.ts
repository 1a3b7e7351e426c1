// The health state owner. Verdicts (from the checks layer), overrides (from the API) and saved state
// come in; it decides each backend's effective state, records every change as an event, saves the
// state, and publishes one snapshot per decision round through the board.

import type { ServiceConfig } from "../config/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Override, Overrides } from "../store/overrides.ts";
import type { HealthEvent, HealthHistory, SavedState } from "../store/health-history.ts";
import type { BackendReport, HealthBoard } from "./board.ts";
import { decide, type Decision, type Suspicion, type Verdict } from "./decide.ts";
import { applyFloor, floorOf } from "./floor.ts";
import { FlapDamper } from "./flap.ts";
import type { PeerVerdicts } from "./peer-verdicts.ts";
import { backendKey, type HealthState } from "./snapshot.ts";

export type OverrideChange =
  | { op: "set"; override: Override; at: number }
  | { op: "clear"; service: string; address: string; at: number };

export interface AgentInput {
  claim: "healthy" | "unhealthy" | "draining" | "unknown";
  detail: string;
}

interface Round {
  reports: BackendReport[];
  events: HealthEvent[];
  states: SavedState[];
}

const newRound = (): Round => ({ reports: [], events: [], states: [] });

function isHealthState(s: string): s is HealthState {
  return s === "up" || s === "down";
}

export interface BackendView {
  service: string;
  address: string;
  port: number;
  state: HealthState;
  reason: string;
  since: number;
  verdict: Verdict;
  verdictDetail: string;
  watched: boolean;
  override?: Override;
  heldOutUntil?: number;
  recentChanges: number;
  /** Own probes say down, but the peers have not agreed (min_peers_agree). */
  suspect: boolean;
}

interface Backend {
  service: string;
  address: string;
  port: number;
  watched: boolean;
  verdict: Verdict;
  verdictDetail: string;
  flap: FlapDamper;
  saved?: { state: HealthState; reason: string };
  state: HealthState;
  reason: string;
  since: number;
  keptByFloor: boolean;
  suspect: Suspicion | undefined;
  /** Whether the stored state is this one (states resting on evidence are stored). */
  stored: boolean;
}

/** One backend's effective state changed (metrics count these). */
export interface StateChange {
  service: string;
  address: string;
  port: number;
  from: HealthState;
  to: HealthState;
}

export interface HealthEngineDeps {
  clock: Clock;
  board: HealthBoard;
  history: HealthHistory;
  overrides: Overrides;
  log: Logger;
  /** The other overwatches' verdicts (overwatch mode); without them this node decides alone. */
  peers?: PeerVerdicts;
}

export class HealthEngine {
  private services = new Map<string, ServiceConfig>();
  private backends = new Map<string, Backend>();
  private overrideMap = new Map<string, Override>();
  private wakeTimer: TimerHandle | undefined;
  private readyWaiters: (() => void)[] = [];
  private readonly changeListeners = new Set<(change: StateChange) => void>();
  private readonly verdictListeners = new Set<() => void>();
  private readonly overrideListeners = new Set<(change: OverrideChange, via?: string) => void>();
  private minPeersAgree = 0;
  /** What agents claim, by backend key (overwatch mode). */
  private agentClaims: ReadonlyMap<string, AgentInput> = new Map();

  /** States saved before the last restart, by backend key: answers start from them. */
  private readonly savedStates: Map<string, { state: string; reason: string; since: number }>;

  constructor(private readonly deps: HealthEngineDeps) {
    this.savedStates = new Map(deps.history.savedStates().map((s) => [backendKey(s.service, s.address, s.port), s]));
    this.loadOverrides();
  }

  /**
   * Takes the services of a (re)loaded config. Backends that stay keep their verdict and history;
   * `watched` says which have a health check (the others are up unless overridden).
   */
  configure(services: readonly ServiceConfig[], watched: (service: string, address: string, port: number) => boolean): void {
    const now = this.deps.clock.now();
    const next = new Map<string, Backend>();
    for (const service of services) {
      for (const b of service.backends) {
        const key = backendKey(service.fqdn, b.address, b.port);
        const existing = this.backends.get(key);
        const isWatched = watched(service.fqdn, b.address, b.port);
        if (existing) {
          existing.watched = isWatched;
          existing.flap.reconfigure(service.flap_damping);
          if (!isWatched) existing.verdict = "unknown";
          next.set(key, existing);
          continue;
        }
        const saved = this.savedStates.get(key);
        const savedState = saved && isHealthState(saved.state) ? { state: saved.state, reason: saved.reason } : undefined;
        next.set(key, {
          service: service.fqdn,
          address: b.address,
          port: b.port,
          watched: isWatched,
          verdict: "unknown",
          verdictDetail: "",
          flap: new FlapDamper(service.flap_damping),
          saved: savedState,
          state: savedState?.state ?? "up",
          reason: savedState ? `saved before restart: ${savedState.reason}` : "new",
          since: saved?.since ?? now,
          keptByFloor: false,
          suspect: undefined,
          stored: savedState !== undefined,
        });
      }
    }
    this.services = new Map(services.map((s) => [s.fqdn, s]));
    this.backends = next;
    this.deps.board.setServices(services);
    this.decideAll("config loaded");
  }

  /** A thresholded verdict from this node's own probes. */
  setVerdict(service: string, address: string, port: number, verdict: Verdict, detail: string): void {
    const backend = this.backends.get(backendKey(service, address, port));
    if (!backend) return;
    backend.verdictDetail = detail;
    if (backend.verdict === verdict) {
      // Same verdict, fresher detail: nothing to decide, but the reason should say what was seen.
      if (backend.reason.startsWith("probe: ")) {
        backend.reason = backend.reason.replace(/^probe: .*?(; confirmed by [^;]*)?$/, (_, confirmed?: string) => `probe: ${detail}${confirmed ?? ""}`);
      }
      return;
    }
    if (backend.verdict !== "unknown") backend.flap.recordChange(this.deps.clock.now());
    backend.verdict = verdict;
    this.decideService(service, detail);
    this.checkReady();
    for (const listener of this.verdictListeners) listener();
  }

  /** `via`: the peer overwatch it came from, when it came over gossip rather than this node's API. */
  setOverride(override: Override, via?: string): void {
    this.deps.overrides.set(override);
    this.overrideMap.set(`${override.service}|${override.address}`, override);
    this.decideService(override.service, `override set by operator${via ? ` (via ${via})` : ""}: ${override.reason}`);
    for (const listener of this.overrideListeners) listener({ op: "set", override, at: override.createdAt }, via);
  }

  clearOverride(service: string, address: string, via?: string): boolean {
    const existed = this.deps.overrides.clear(service, address);
    this.overrideMap.delete(`${service}|${address}`);
    this.decideService(service, `override cleared by operator${via ? ` (via ${via})` : ""}`);
    for (const listener of this.overrideListeners) listener({ op: "clear", service, address, at: this.deps.clock.now() }, via);
    return existed;
  }

  /** Called after every override set or cleared, with `via` when it came from a peer. */
  onOverrideChange(listener: (change: OverrideChange, via?: string) => void): () => void {
    this.overrideListeners.add(listener);
    return () => this.overrideListeners.delete(listener);
  }

  /** Called after this node's own verdict on some backend changed (to gossip it to the peers). */
  onOwnVerdictChange(listener: () => void): () => void {
    this.verdictListeners.add(listener);
    return () => this.verdictListeners.delete(listener);
  }

  /** The backends this node's own probes see down, as backend keys. */
  ownDownKeys(): string[] {
    return [...this.backends].filter(([, b]) => b.verdict === "down").map(([key]) => key);
  }

  /** gossip.min_peers_agree of the (re)loaded config; 0 decides alone. */
  setMinPeersAgree(count: number): void {
    if (count === this.minPeersAgree) return;
    this.minPeersAgree = count;
    this.decideAll(`min_peers_agree is ${count}`);
  }

  /** The agents' claims now, by backend key; replaces what was there. */
  setAgentClaims(claims: ReadonlyMap<string, AgentInput>, why: string): void {
    this.agentClaims = claims;
    this.decideAll(why);
  }

  /** The peers' verdicts or their membership changed. */
  peersChanged(why: string): void {
    this.decideAll(why);
  }

  /** Called for every change of a backend's effective state; returns a function that unsubscribes. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Those in force now (an expired one stays stored, but is not in force). */
  overrides(): Override[] {
    const now = this.deps.clock.now();
    return [...this.overrideMap.values()].filter((o) => o.expiresAt === undefined || o.expiresAt > now);
  }

  view(): BackendView[] {
    const now = this.deps.clock.now();
    return [...this.backends.values()].map((b) => ({
      service: b.service,
      address: b.address,
      port: b.port,
      state: b.state,
      reason: b.reason,
      since: b.since,
      verdict: b.verdict,
      verdictDetail: b.verdictDetail,
      watched: b.watched,
      override: this.overrideFor(b, now),
      heldOutUntil: b.flap.heldOutUntil(now),
      recentChanges: b.flap.recentChanges(now),
      suspect: b.suspect !== undefined,
    }));
  }

  /** Ready when every checked backend has its own verdict or a state saved before a restart. */
  isReady(): boolean {
    for (const b of this.backends.values()) if (b.watched && b.verdict === "unknown" && !b.saved) return false;
    return true;
  }

  whenReady(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  close(): void {
    this.wakeTimer?.cancel();
  }

  private checkReady(): void {
    if (this.readyWaiters.length === 0 || !this.isReady()) return;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  private loadOverrides(): void {
    const now = this.deps.clock.now();
    this.overrideMap = new Map(this.deps.overrides.active(now).map((o) => [`${o.service}|${o.address}`, o]));
  }

  private overrideFor(b: Backend, now: number): Override | undefined {
    const o = this.overrideMap.get(`${b.service}|${b.address}`);
    return o && (o.expiresAt === undefined || o.expiresAt > now) ? o : undefined;
  }

  private decideAll(detail: string): void {
    const round = newRound();
    for (const fqdn of this.services.keys()) this.collect(fqdn, detail, round);
    this.commit(round);
  }

  private decideService(fqdn: string, detail: string): void {
    const round = newRound();
    this.collect(fqdn, detail, round);
    this.commit(round);
  }

  /** Decides every backend of one service (the floor needs them together) and notes the changes. */
  private collect(fqdn: string, detail: string, round: Round): void {
    const service = this.services.get(fqdn);
    if (!service) return;
    const now = this.deps.clock.now();
    const members = service.backends.map((b) => this.backends.get(backendKey(fqdn, b.address, b.port))!);
    const decisions: Decision[] = members.map((b) =>
      decide({
        now,
        override: this.overrideFor(b, now),
        verdict: b.verdict,
        watched: b.watched,
        verdictDetail: b.verdictDetail,
        heldOutUntil: b.flap.heldOutUntil(now),
        saved: b.saved,
        quorum: this.quorumFor(backendKey(fqdn, b.address, b.port), now),
        current: b.state,
        agent: this.agentClaims.get(backendKey(fqdn, b.address, b.port)),
      }),
    );
    const final = applyFloor(decisions, floorOf(service, members.length), (i) => members[i]!.state === "up");
    members.forEach((b, i) => {
      const d = final[i]!;
      const changed = d.state !== b.state;
      // The floor holding a backend in, or peers not agreeing to take it out (and either ending), is
      // worth an event even without a change of state.
      if (changed || Boolean(d.keptByFloor) !== b.keptByFloor || d.suspect !== b.suspect) {
        round.events.push({ at: now, service: fqdn, address: b.address, port: b.port, oldState: b.state, newState: d.state, reason: d.reason, detail });
        this.deps.log.info("backend state changed", { service: fqdn, address: b.address, port: b.port, from: b.state, to: d.state, reason: d.reason });
      }
      if (changed) {
        b.since = now;
        b.stored = false;
        for (const listener of this.changeListeners) listener({ service: fqdn, address: b.address, port: b.port, from: b.state, to: d.state });
      }
      if (b.verdict !== "unknown") b.saved = undefined;
      b.state = d.state;
      b.reason = d.reason;
      b.keptByFloor = Boolean(d.keptByFloor);
      b.suspect = d.suspect;
      if (!b.stored && (b.verdict !== "unknown" || this.overrideFor(b, now))) {
        round.states.push({ service: fqdn, address: b.address, port: b.port, state: b.state, reason: b.reason, since: b.since });
        b.stored = true;
      }
      round.reports.push({ service: fqdn, address: b.address, port: b.port, state: d.state, reason: d.reason });
    });
  }

  private quorumFor(key: string, now: number) {
    const peers = this.deps.peers;
    if (!peers || this.minPeersAgree === 0) return undefined;
    return { minPeersAgree: this.minPeersAgree, ...peers.tally(key, now) };
  }

  private commit(round: Round): void {
    try {
      this.deps.history.record(round.events, round.states);
    } catch (err) {
      // A full disk must not stop answers from following health: log, and keep serving.
      this.deps.log.error("could not record health events", { error: String(err), events: round.events.length });
    }
    this.deps.board.apply(round.reports);
    this.armWakeUp();
  }

  /** Hold-outs and overrides end by time alone: wake up then and decide again. */
  private armWakeUp(): void {
    const now = this.deps.clock.now();
    let next = Infinity;
    for (const b of this.backends.values()) {
      const held = b.flap.heldOutUntil(now);
      if (held !== undefined) next = Math.min(next, held);
    }
    for (const o of this.overrideMap.values()) if (o.expiresAt !== undefined && o.expiresAt > now) next = Math.min(next, o.expiresAt);
    // A peer's report going stale changes what a quorum can be.
    const peerExpiry = this.minPeersAgree > 0 ? this.deps.peers?.nextExpiry(now) : undefined;
    if (peerExpiry !== undefined) next = Math.min(next, peerExpiry);
    this.wakeTimer?.cancel();
    this.wakeTimer = next === Infinity ? undefined : this.deps.clock.setTimeout(() => this.decideAll("time-based change"), next - now + 1);
  }
}
