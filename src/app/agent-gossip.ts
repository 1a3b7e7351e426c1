// Agent mode's gossip: this agent as a member (role "agent") of the SWIM cluster of overwatches and
// agents, as cluster.ts joins an overwatch. Overwatches come and go (restarts, upgrades, a partition),
// so the configured ones that are not alive members are asked to join again every few seconds: the
// agent reconnects by itself. Claims go out through publish(); what other members publish is relayed
// by the membership layer and otherwise none of the agent's business.

import { lookup } from "node:dns/promises";
import type { Config, HostPort } from "../config/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { parseIp } from "../lib/cidr.ts";
import { Keyring } from "../cluster/keyring.ts";
import { Membership } from "../cluster/membership.ts";
import type { Member } from "../cluster/member-table.ts";
import { NetTransport } from "../cluster/net-transport.ts";
import { agentGossipAddresses } from "../agent/gossip-address.ts";
import type { SignedClaim } from "../agent/claims.ts";

/** How often configured overwatches that are not members are asked to join again. */
const REJOIN_INTERVAL_MS = 5_000;
const LEAVE_WAIT_MS = 1_000;

export class AgentGossip {
  private rejoinTimer: TimerHandle | undefined;
  private stopped = false;

  private constructor(
    private readonly membership: Membership,
    private overwatches: readonly HostPort[],
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** `name` is unique in the cluster; `onOverwatch` is called when an overwatch comes into reach. */
  static async start(config: Config, name: string, onOverwatch: () => void, clock: Clock, log: Logger): Promise<AgentGossip> {
    const gossip = config.gossip;
    const addresses = await agentGossipAddresses(gossip);
    let transport: NetTransport;
    try {
      transport = await NetTransport.listen({ bindAddress: addresses.bind, advertiseAddress: addresses.advertise, clock });
    } catch (err) {
      throw new StartupError(`cannot listen for gossip on ${addresses.bind} (${addresses.why}): ${errorMessage(err)}`);
    }
    const membership = new Membership({
      name,
      meta: { role: "agent", region: config.identity.region ?? "" },
      transport,
      keyring: Keyring.fromBase64(gossip.encryption_key!, gossip.keyring),
      clock,
      logger: log.with({ part: "gossip" }),
    });
    membership.onEvent((event) => {
      if (event.member.meta.role === "overwatch" && (event.type === "joined" || event.type === "alive-again")) onOverwatch();
    });
    const node = new AgentGossip(membership, gossip.overwatch_nodes, clock, log);
    membership.start();
    log.info("gossip listening", { gossip: node.address(), chosen_from: addresses.why });
    node.rejoinLoop();
    return node;
  }

  /** A reload: new overwatches are joined at once. Keys and the bind address need a restart. */
  reconfigure(config: Config): void {
    this.overwatches = config.gossip.overwatch_nodes;
    void this.joinMissing();
  }

  get maxPayloadBytes(): number {
    return this.membership.maxPayloadBytes;
  }

  publish(claim: SignedClaim): void {
    this.membership.publish(claim.payload, { key: claim.key });
  }

  /** Overwatches alive in this agent's view: those a heartbeat can reach now. */
  overwatchesInReach(): number {
    return this.membership.members().filter((m) => m.meta.role === "overwatch" && m.state === "alive").length;
  }

  members(): Member[] {
    return this.membership.members();
  }

  /** What the gossip metrics read; agents take no application messages and no verdict reports, so those read 0. */
  stats() {
    return { ...this.membership.stats(), messagesRejected: 0, peers: [] };
  }

  address(): string {
    return this.membership.member(this.membership.name)?.address ?? "";
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.rejoinTimer?.cancel();
    // Leaving tells the overwatches at once; bounded, as SIGTERM allows 5 s in all.
    await this.membership.leave(LEAVE_WAIT_MS).catch(() => undefined);
    await this.membership.shutdown();
  }

  private rejoinLoop(): void {
    void this.joinMissing();
    this.rejoinTimer = this.clock.setTimeout(() => {
      if (!this.stopped) this.rejoinLoop();
    }, REJOIN_INTERVAL_MS);
  }

  private async joinMissing(): Promise<void> {
    const known = new Set(this.membership.members().filter((m) => m.state === "alive" || m.state === "suspect").map((m) => m.address));
    const configured = this.overwatches;
    // Members are known by IP address; a configured name is looked up before comparing.
    const resolved = await Promise.all(configured.map(resolve));
    const missing = configured.filter((_, i) => !known.has(resolved[i] ?? "")).map(formatHostPort);
    if (missing.length === 0 || this.stopped) return;
    const result = await this.membership.join(missing).catch((err) => ({ failed: [{ address: missing.join(", "), error: errorMessage(err) }] }));
    for (const failed of result.failed) this.log.debug("overwatch not reached yet", { overwatch: failed.address, error: failed.error });
  }
}

async function resolve(overwatch: HostPort): Promise<string | undefined> {
  if (parseIp(overwatch.host)) return formatHostPort(overwatch);
  try {
    return formatHostPort({ host: (await lookup(overwatch.host)).address, port: overwatch.port });
  } catch {
    return undefined;
  }
}
