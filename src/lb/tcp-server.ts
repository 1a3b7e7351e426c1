// A `tcp` or `tls` balancer server: the listener, the accept gate (access rules, then
// max_connections), the set of live relays, reloads that apply to new connections only, and
// draining. Plain TCP listens with Bun.listen; terminated TLS listens with node:tls (see tls-listener.ts).

import type { LbServerConfig } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { listenPlain, type Acceptor, type Listener } from "./tcp-listener.ts";
import type { ClientOrigin, ClientPeer } from "./tcp-peer.ts";
import { Relay, type RelayHost } from "./tcp-relay.ts";
import { compileSettings, type TcpPools, type TcpSettings } from "./tcp-settings.ts";
import { listenTls } from "./tls-listener.ts";
import { serverStats, type LbServerStats, type ServerCounters } from "./types.ts";

export class TcpBalancer implements RelayHost, Acceptor {
  readonly counters: ServerCounters = { total: 0, refused: 0, denied: 0, errors: 0, bytesIn: 0, bytesOut: 0 };
  private readonly relays = new Set<Relay>();
  private listener!: Listener;
  private stopped = false;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    private settings: TcpSettings,
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /** Binds and starts accepting; throws a clear error when the bind fails or the config cannot be used. */
  static start(config: LbServerConfig, pools: TcpPools, clock: Clock, log: Logger): TcpBalancer {
    if (config.protocol === "udp") throw new Error(`lb server ${config.name}: protocol udp is served by the UDP balancer`);
    const balancer = new TcpBalancer(compileSettings(config, pools), clock, log);
    balancer.listener = config.protocol === "tls" ? listenTls(config, balancer, log) : listenPlain(config, balancer);
    return balancer;
  }

  address(): string {
    return this.listener.address();
  }

  /** Timeouts, limits, access rules and the PROXY header apply to new connections; established ones keep theirs. */
  apply(config: LbServerConfig): void {
    this.settings = compileSettings(config, this.settings.pools);
  }

  /** Stops accepting; resolves when the last connection has ended. */
  drain(): Promise<void> {
    this.stopListening();
    if (!this.drained) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.drained = { promise, resolve };
      if (this.relays.size === 0) resolve();
    }
    return this.drained.promise;
  }

  /** Stops accepting and closes every connection now. */
  close(): void {
    this.stopListening();
    for (const relay of [...this.relays]) relay.destroy();
  }

  stats(): LbServerStats {
    const { config, pools } = this.settings;
    const backends = [pools.main, ...pools.sni.map((route) => route.pool)].flatMap((pool) => pool.stats());
    return serverStats(config, this.address(), this.drained !== undefined, this.relays.size, this.counters, backends);
  }

  admit(client: ClientOrigin): boolean {
    const access = this.settings.access;
    if (!(access.decisionForAll() ?? access.allows(client.address()))) {
      this.counters.denied++;
      return false;
    }
    const max = this.settings.config.max_connections;
    if (max > 0 && this.relays.size >= max) {
      this.counters.refused++;
      return false;
    }
    this.counters.total++;
    return true;
  }

  open(client: ClientPeer, terminatesTls: boolean): Relay {
    const relay = new Relay(this, this.settings, client, terminatesTls);
    this.relays.add(relay);
    return relay;
  }

  relayEnded(relay: Relay): void {
    this.relays.delete(relay);
    if (this.relays.size === 0) this.drained?.resolve();
  }

  private stopListening(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.listener.stop();
  }
}
