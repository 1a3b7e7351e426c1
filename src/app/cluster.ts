// Overwatch mode's gossip: this node in the SWIM cluster of overwatches and agents. Its own verdicts go
// to the other overwatches, theirs feed the health engine so min_peers_agree can be judged; agents'
// claims go to the agent registry. Verdicts go out whole on every change and every
// VERDICT_INTERVAL_MS, so a lost packet costs at most one interval, and a report older than three
// intervals counts for nothing.

import { networkInterfaces } from "node:os";
import type { Config, HostPort } from "../config/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { Keyring } from "../cluster/keyring.ts";
import { Membership } from "../cluster/membership.ts";
import type { Member } from "../cluster/member-table.ts";
import { NetTransport } from "../cluster/net-transport.ts";
import { decodeVerdicts, encodeVerdicts, VerdictAssembler } from "../cluster/verdict-messages.ts";
import { decodeClaim, isClaimPayload } from "../cluster/claims.ts";
import type { AgentRegistry } from "../health/agent-registry.ts";
import { decodeOverrides, encodeOverrides } from "../cluster/override-messages.ts";
import { OverrideLedger } from "../health/override-ledger.ts";
import type { OverrideChange } from "../health/engine.ts";
import { decodeKeySetMessage, encodeKeySetMessages } from "../cluster/keyset-messages.ts";
import { settleKeySet } from "../dns/dnssec/key-sync.ts";
import type { Keyring as DnssecKeyring } from "../dns/dnssec/keyring.ts";
import type { HealthEngine } from "../health/engine.ts";
import { PeerVerdicts } from "../health/peer-verdicts.ts";

export const VERDICT_INTERVAL_MS = 2_000;
export const VERDICT_FRESHNESS_MS = 3 * VERDICT_INTERVAL_MS;
/** How often the whole override set goes out again, for peers that missed a change. */
const OVERRIDE_RESEND_MS = 10_000;
/** How often this node's DNSSEC key sets go out again (they also go out on every change). */
const KEYSET_RESEND_MS = 30_000;
const CLAIM_WARNING_INTERVAL_MS = 60_000;
/** How often configured peers that are not members are asked to join again. */
const REJOIN_INTERVAL_MS = 5_000;
const LEAVE_WAIT_MS = 1_000;

export class Cluster {
  private readonly assembler = new VerdictAssembler();
  private readonly overrides = new OverrideLedger();
  private readonly claimWarnings = new Map<string, number>();
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;
  private peerAddresses: string[];
  private publishQueued = false;
  readonly rejected = { messages: 0 };

  private registryTimer: TimerHandle | undefined;

  private constructor(
    private readonly membership: Membership,
    private readonly peers: PeerVerdicts,
    private readonly health: HealthEngine,
    private readonly agents: AgentWiring,
    private readonly dnssec: DnssecKeyring | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
    config: Config,
  ) {
    this.peerAddresses = config.gossip.peers.map(formatHostPort);
  }

  /** The peer verdicts the health engine reads; made before the engine, which needs them. */
  static peerVerdicts(): PeerVerdicts {
    return new PeerVerdicts(VERDICT_FRESHNESS_MS);
  }

  static async start(
    config: Config,
    parts: { peers: PeerVerdicts; health: HealthEngine; agents: AgentWiring; dnssec: DnssecKeyring | undefined },
    clock: Clock,
    log: Logger,
  ): Promise<Cluster> {
    const { peers, health, agents, dnssec } = parts;
    const gossip = config.gossip;
    const bind = gossip.bind_address!;
    let transport: NetTransport;
    try {
      transport = await NetTransport.listen({
        bindAddress: formatHostPort(bind),
        advertiseAddress: advertisedAddress(gossip.advertise_address, bind),
        clock,
      });
    } catch (err) {
      throw new StartupError(`cannot listen for gossip on ${formatHostPort(bind)} (gossip.bind_address): ${errorMessage(err)}`);
    }
    const membership = new Membership({
      name: config.identity.node_id,
      meta: { role: "overwatch", region: config.identity.region ?? "" },
      transport,
      keyring: Keyring.fromBase64(gossip.encryption_key!, gossip.keyring),
      clock,
      logger: log.with({ part: "gossip" }),
    });
    const cluster = new Cluster(membership, peers, health, agents, dnssec, clock, log, config);
    cluster.wire();
    health.setMinPeersAgree(gossip.min_peers_agree);
    membership.start();
    void cluster.joinMissing();
    return cluster;
  }

  /** A reload: new peers to join, a new quorum size. Keys and the bind address need a restart. */
  reconfigure(config: Config): void {
    this.peerAddresses = config.gossip.peers.map(formatHostPort);
    if (this.agents.registry.reconfigure(config, this.clock.now())) this.agents.changed("agent tokens or stale timers changed");
    this.armRegistry();
    this.health.setMinPeersAgree(config.gossip.min_peers_agree);
    void this.joinMissing();
  }

  members(): Member[] {
    return this.membership.members();
  }

  stats() {
    return { ...this.membership.stats(), messagesRejected: this.rejected.messages, peers: this.peers.peers(this.clock.now()) };
  }

  address(): string {
    return this.membership.members().find((m) => m.name === this.membership.name)?.address ?? "";
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
    this.registryTimer?.cancel();
    // Bounded: a stopping node should not wait out the whole retransmit schedule (SIGTERM has 5 s).
    await this.membership.leave(LEAVE_WAIT_MS).catch(() => undefined);
    await this.membership.shutdown();
  }

  private wire(): void {
    this.membership.onMessage(({ origin, payload }) => {
      if (isClaimPayload(payload)) return this.receiveClaim(origin, payload);
      const decoded = decodeVerdicts(payload);
      if (!decoded.ok && decoded.reason === "not a verdict report") return this.receiveOther(origin, payload);
      if (!decoded.ok) {
        this.rejected.messages++;
        this.log.debug("gossip message dropped", { from: origin, reason: decoded.reason });
        return;
      }
      const down = this.assembler.add(origin, decoded.report);
      if (down === undefined) return;
      this.peers.update(origin, down, this.clock.now());
      this.health.peersChanged(`verdicts from ${origin}`);
    });
    this.membership.onEvent((event) => {
      if (event.type === "dead" || event.type === "left") {
        this.assembler.forget(event.member.name);
        if (this.peers.forget(event.member.name)) this.health.peersChanged(`${event.member.name} ${event.type}`);
      }
      if (event.type === "joined" || event.type === "alive-again") {
        this.queuePublish();
        this.publishKeySets();
      }
    });
    this.health.onOwnVerdictChange(() => this.queuePublish());
    // Overrides made here go to every peer; those that came from a peer are only remembered.
    for (const override of this.health.overrides()) this.overrides.record({ op: "set", override, at: override.createdAt });
    this.health.onOverrideChange((change, via) => {
      this.overrides.record(change);
      if (!via) this.publishOverrides([change]);
    });
    this.every(OVERRIDE_RESEND_MS, () => this.publishOverrides(this.overrides.snapshot(this.clock.now())));
    this.dnssec?.onChange(() => this.publishKeySets());
    this.every(KEYSET_RESEND_MS, () => this.publishKeySets());
    this.every(VERDICT_INTERVAL_MS, () => this.publish());
    this.every(REJOIN_INTERVAL_MS, () => void this.joinMissing());
  }

  /** Overrides or a DNSSEC key set; anything else is counted and dropped. */
  private receiveOther(origin: string, payload: Uint8Array): void {
    const overrides = decodeOverrides(payload);
    if (overrides.ok) return this.receiveOverrides(origin, overrides.changes);
    const keysets = decodeKeySetMessage(payload);
    if (keysets.ok && this.dnssec) {
      for (const set of keysets.sets) settleKeySet(this.dnssec, set, `gossip from ${origin}`);
      return;
    }
    this.rejected.messages++;
    this.log.debug("gossip message dropped", { from: origin, reason: keysets.ok ? "dnssec is off here" : keysets.reason });
  }

  private publishKeySets(): void {
    const keyring = this.dnssec;
    if (!keyring) return;
    const missing = keyring.missing();
    const sets = keyring.zones().filter((zone) => !missing.includes(zone)).map((zone) => keyring.keySet(zone));
    const { payloads, tooLarge } = encodeKeySetMessages(sets, this.membership.maxPayloadBytes);
    for (const payload of payloads) this.membership.publish(payload);
    if (tooLarge.length > 0) this.log.debug("dnssec key sets too large for gossip; key_sync over the API carries them", { zones: tooLarge });
  }

  private receiveOverrides(origin: string, changes: readonly OverrideChange[]): void {
    for (const change of this.overrides.merge(changes)) {
      if (change.op === "set") this.health.setOverride(change.override, origin);
      else this.health.clearOverride(change.service, change.address, origin);
    }
  }

  private publishOverrides(changes: readonly OverrideChange[]): void {
    for (const payload of encodeOverrides(changes, this.membership.maxPayloadBytes)) this.membership.publish(payload);
  }

  private receiveClaim(origin: string, payload: Uint8Array): void {
    const { registry } = this.agents;
    const decoded = decodeClaim(payload);
    if (!decoded.ok) {
      registry.countUndecodable(decoded.reason);
      this.log.debug("agent claim dropped", { from: origin, reason: decoded.reason, detail: decoded.detail });
      return;
    }
    const result = registry.receive(decoded.claim, this.clock.now());
    if (result.outcome === "rejected") {
      // Worth an operator's eye (a wrong token, a reinstalled agent), but once a minute per agent is enough.
      const last = this.claimWarnings.get(decoded.claim.agentId) ?? -Infinity;
      const now = this.clock.now();
      const level = now - last >= CLAIM_WARNING_INTERVAL_MS ? "warn" : "debug";
      if (level === "warn") this.claimWarnings.set(decoded.claim.agentId, now);
      this.log[level]("agent claim rejected", { from: origin, agent: decoded.claim.agentId, service: decoded.claim.service, reason: result.reason, detail: result.detail });
    } else if (result.outcome === "accepted" && result.changed) {
      this.agents.changed(`claim from agent ${decoded.claim.agentId}`);
    }
    this.armRegistry();
  }

  /** Agents go stale and are dropped by time alone: wake up when the registry is next due. */
  private armRegistry(): void {
    this.registryTimer?.cancel();
    const now = this.clock.now();
    const due = this.agents.registry.nextDue(now);
    if (due === undefined || this.stopped) return;
    this.registryTimer = this.clock.setTimeout(() => {
      if (this.agents.registry.tick(this.clock.now())) this.agents.changed("agent heartbeats timed out");
      this.armRegistry();
    }, Math.max(0, due - now));
  }

  /** Several verdicts change in one probe round: send one report after them. */
  private queuePublish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      this.publish();
    });
  }

  private publish(): void {
    const round = this.clock.now();
    for (const payload of encodeVerdicts(round, this.health.ownDownKeys(), this.membership.maxPayloadBytes)) {
      this.membership.publish(payload, { key: "verdicts" });
    }
  }

  private async joinMissing(): Promise<void> {
    const known = new Set(this.membership.members().filter((m) => m.state === "alive" || m.state === "suspect").map((m) => m.address));
    const missing = this.peerAddresses.filter((a) => !known.has(a));
    if (missing.length === 0) return;
    const result = await this.membership.join(missing);
    for (const failed of result.failed) this.log.debug("gossip peer not reached yet", { peer: failed.address, error: failed.error });
  }

  private every(ms: number, run: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      run();
      this.every(ms, run);
    }, ms);
    this.timers.add(timer);
  }
}

/** The agents' side of the cluster: their registry, and what to do when what they claim changes. */
export interface AgentWiring {
  registry: AgentRegistry;
  changed(why: string): void;
}

/**
 * What others dial: as configured; else a wildcard bind is reached at this host's first non-loopback
 * IPv4 address (memberlist picks a private one); else the transport's own address (its port may be 0
 * in the config and chosen at bind).
 */
function advertisedAddress(configured: HostPort | undefined, bind: HostPort): string | undefined {
  if (configured) return formatHostPort(configured);
  if (bind.host !== "0.0.0.0" && bind.host !== "::") return undefined;
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
  return formatHostPort({ host: external?.address ?? "127.0.0.1", port: bind.port });
}
