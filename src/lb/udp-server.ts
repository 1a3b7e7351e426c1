// A `udp` balancer server. Each client address (ip and port) gets a session: a backend elected once,
// and a connected socket to it (udp-links.ts) whose replies go back to the client from the listening
// socket. A session ends after `udp.session_timeout` without a datagram either way, after
// `max_replies` replies, or when its backend socket fails; after `max_requests` datagrams it takes no
// more from its client (the next one starts a new session) and stays only to carry replies back.
// Idle expiry is one clock timer over the sessions in order of last activity, never a timer each.
//
// A DNS-style exchange (max_replies 1) costs one election and an idle socket taken and handed back.

import type { udp } from "bun";
import type { LbServerConfig } from "../config/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { Logger } from "../lib/log.ts";
import { AccessRules } from "./access.ts";
import { IdleList, type IdleNode } from "./idle-list.ts";
import type { Pool, PoolMember } from "./pool.ts";
import { proxyHeaderV2, type Endpoint } from "./proxy-protocol.ts";
import { serverStats, type LbServerStats } from "./types.ts";
import { BackendLinks, type BackendLink, type LinkOwner } from "./udp-links.ts";

/** Datagrams a session holds while its backend socket is being made; more are dropped, as a full buffer would. */
const MAX_WAITING = 64;
/** The largest UDP payload, plus room for the longest PROXY v2 header (IPv6: 52 bytes). */
const MAX_FRAMED = 65_535 + 64;

interface UdpSettings {
  readonly config: LbServerConfig;
  readonly access: AccessRules;
}

/** Throws naming the config key when something cannot be used. */
function compileSettings(config: LbServerConfig): UdpSettings {
  if (config.proxy_protocol?.version === 1) {
    throw new Error(`lb server ${config.name}: proxy_protocol version 1 cannot describe UDP; use version 2`);
  }
  return { config, access: new AccessRules(config.access) };
}

class UdpSession implements IdleNode, LinkOwner {
  lastActive = 0;
  idlePrev: IdleNode | undefined;
  idleNext: IdleNode | undefined;
  listed = false;
  requests = 0;
  replies = 0;
  link: BackendLink | undefined;
  /** Client datagrams that came before the backend socket was ready. */
  waiting: Uint8Array[] | undefined;
  /** False once max_requests is reached: the client's next datagram starts a new session. */
  mapped = true;
  ended = false;
  /** The backend socket failed: it is closed rather than reused. */
  failed = false;

  constructor(
    private readonly balancer: UdpBalancer,
    readonly address: string,
    readonly port: number,
    public member: PoolMember,
    readonly maxRequests: number,
    readonly maxReplies: number,
    /** The PROXY v2 header every datagram to the backend starts with, when asked for. */
    readonly header: Uint8Array | undefined,
  ) {}

  fromBackend(data: Buffer): void {
    this.balancer.reply(this, data);
  }

  backendFailed(err: Error | undefined): void {
    this.balancer.backendFailed(this, err);
  }
}

export class UdpBalancer {
  private readonly counters = { active: 0, total: 0, refused: 0, denied: 0, errors: 0, bytesIn: 0, bytesOut: 0 };
  /** Client address → client port → its session. */
  private readonly sessions = new Map<string, Map<number, UdpSession>>();
  private readonly byActivity = new IdleList<UdpSession>();
  private readonly links = new BackendLinks();
  private expiry: TimerHandle | undefined;
  private listener!: udp.Socket<"buffer">;
  /** The bound address, as PROXY headers name it. */
  private local!: Endpoint;
  /** Header and datagram side by side, for sending with PROXY protocol without allocating. */
  private scratch: Uint8Array | undefined;
  private draining = false;
  private closed = false;

  private constructor(
    private settings: UdpSettings,
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Binds and starts serving; throws a clear error when the bind fails or the config cannot be used. */
  static async start(config: LbServerConfig, pool: Pool, clock: Clock, log: Logger): Promise<UdpBalancer> {
    if (config.protocol !== "udp") throw new Error(`lb server ${config.name}: protocol ${config.protocol} is served by the TCP balancer`);
    const balancer = new UdpBalancer(compileSettings(config), pool, clock, log);
    try {
      balancer.listener = await Bun.udpSocket({
        hostname: config.bind.host,
        port: config.bind.port,
        socket: {
          data: (_socket, data, port, address) => balancer.fromClient(data, port, address),
          // An ICMP error about some client, reported on a later receive; its session expires as usual.
          error: () => {},
        },
      });
    } catch (err) {
      throw new Error(`lb server ${config.name}: cannot listen on ${formatHostPort(config.bind)}: ${errorMessage(err)}`);
    }
    balancer.local = { address: balancer.listener.address.address, port: balancer.listener.port };
    return balancer;
  }

  address(): string {
    return formatHostPort({ host: this.settings.config.bind.host, port: this.listener.port });
  }

  /** Access rules, limits and the PROXY header apply to new sessions; session_timeout to every session. */
  apply(config: LbServerConfig): void {
    this.settings = compileSettings(config);
    this.expiry?.cancel();
    this.expiry = undefined;
    this.armExpiry();
  }

  /**
   * UDP has no connection to wait for, and a replacement server needs the address at once (Bun
   * cannot share a UDP port): the listener closes now and every session ends with it. A reply still
   * on its way is lost, which a UDP client already copes with by asking again.
   */
  drain(): Promise<void> {
    this.draining = true;
    this.close();
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    this.expiry?.cancel();
    for (let session = this.byActivity.first(); session; session = this.byActivity.first()) this.end(session);
    this.links.closeAll();
  }

  stats(): LbServerStats {
    const { config } = this.settings;
    return serverStats(config, this.address(), this.draining, this.counters.active, this.counters, this.pool.stats());
  }

  /** A datagram from a backend, for its session's client. */
  reply(session: UdpSession, data: Buffer): void {
    session.replies++;
    this.counters.bytesOut += data.length;
    session.member.bytesOut += data.length;
    this.touch(session);
    try {
      this.listener.send(data, session.port, session.address);
    } catch {
      // The client's port is gone (an ICMP error was pending); its session expires as usual.
    }
    if (session.maxReplies > 0 && session.replies >= session.maxReplies) this.end(session);
  }

  /** The backend socket reported an error (port unreachable...) or a send to it failed. */
  backendFailed(session: UdpSession, err: unknown): void {
    if (session.ended) return;
    session.failed = true;
    session.member.connectFailed();
    this.counters.errors++;
    this.log.debug("lb udp backend failed", { backend: session.member.key, client: session.address, error: errorMessage(err) });
    this.end(session);
  }

  private fromClient(data: Buffer, port: number, address: string): void {
    const session = this.sessions.get(address)?.get(port);
    if (session) this.forward(session, data);
    else this.open(data, port, address);
  }

  private open(data: Buffer, port: number, address: string): void {
    const { config, access } = this.settings;
    if (!access.allows(address)) {
      this.counters.denied++;
      return;
    }
    if (config.max_connections > 0 && this.counters.active >= config.max_connections) {
      this.counters.refused++;
      return;
    }
    const member = this.pool.elect(address);
    if (!member) {
      this.counters.refused++;
      return;
    }
    const header = config.proxy_protocol ? proxyHeaderV2("udp", { address, port }, this.local) : undefined;
    const session = new UdpSession(this, address, port, member, config.udp.max_requests, config.udp.max_replies, header);
    this.counters.active++;
    this.counters.total++;
    member.opened();
    let byPort = this.sessions.get(address);
    if (!byPort) this.sessions.set(address, (byPort = new Map()));
    byPort.set(port, session);
    const link = this.links.take(member);
    if (link) this.attach(session, link);
    else {
      session.waiting = [];
      this.connect(session, new Set([member]), config.connect_retries);
    }
    this.forward(session, data);
  }

  private forward(session: UdpSession, data: Buffer): void {
    session.requests++;
    this.touch(session);
    if (session.link) this.toBackend(session, session.link, data);
    // Copied: the datagram is kept past this callback.
    else if (session.waiting!.length < MAX_WAITING) session.waiting!.push(new Uint8Array(data));
    if (session.maxRequests > 0 && session.requests >= session.maxRequests) this.unmap(session);
  }

  private toBackend(session: UdpSession, link: BackendLink, data: Uint8Array): void {
    this.counters.bytesIn += data.length;
    session.member.bytesIn += data.length;
    try {
      link.send(session.header ? this.framed(session.header, data) : data);
    } catch (err) {
      this.backendFailed(session, err);
    }
  }

  /** Makes a socket to the session's member; when the system cannot, tries other members up to `retries` times. */
  private connect(session: UdpSession, tried: Set<PoolMember>, retries: number): void {
    this.links.open(session.member).then(
      (link) => {
        if (session.ended) this.links.release(link, true);
        else this.attach(session, link);
      },
      (err: unknown) => {
        if (session.ended) return;
        session.member.connectFailed();
        const next = retries > 0 ? this.pool.elect(session.address, tried) : undefined;
        if (!next) {
          this.counters.errors++;
          this.log.debug("lb udp backend socket failed", { backend: session.member.key, error: errorMessage(err) });
          this.end(session);
          return;
        }
        session.member.closed();
        next.opened();
        session.member = next;
        tried.add(next);
        this.connect(session, tried, retries - 1);
      },
    );
  }

  private attach(session: UdpSession, link: BackendLink): void {
    session.link = link;
    link.owner = session;
    const waiting = session.waiting;
    session.waiting = undefined;
    for (const data of waiting ?? []) {
      if (session.ended) return;
      this.toBackend(session, link, data);
    }
  }

  private end(session: UdpSession): void {
    if (session.ended) return;
    session.ended = true;
    this.unmap(session);
    this.byActivity.remove(session);
    this.counters.active--;
    session.member.closed();
    session.waiting = undefined;
    if (session.link) this.links.release(session.link, !session.failed && session.replies >= session.requests);
    session.link = undefined;
  }

  private unmap(session: UdpSession): void {
    if (!session.mapped) return;
    session.mapped = false;
    const byPort = this.sessions.get(session.address);
    if (byPort?.get(session.port) !== session) return;
    byPort.delete(session.port);
    if (byPort.size === 0) this.sessions.delete(session.address);
  }

  private touch(session: UdpSession): void {
    this.byActivity.touch(session, this.clock.now());
    if (!this.expiry) this.armExpiry();
  }

  /** One timer, for the session idle the longest; 0 = sessions never expire by idleness. */
  private armExpiry(): void {
    const timeout = this.settings.config.udp.session_timeout;
    const oldest = this.byActivity.first();
    if (timeout === 0 || !oldest || this.closed) return;
    this.expiry = this.clock.setTimeout(() => this.expire(), oldest.lastActive + timeout - this.clock.now());
  }

  private expire(): void {
    this.expiry = undefined;
    const timeout = this.settings.config.udp.session_timeout;
    const now = this.clock.now();
    for (let s = this.byActivity.first(); s && s.lastActive + timeout <= now; s = this.byActivity.first()) this.end(s);
    this.links.sweep(this.pool.members());
    this.armExpiry();
  }

  private framed(header: Uint8Array, data: Uint8Array): Uint8Array {
    const scratch = (this.scratch ??= new Uint8Array(MAX_FRAMED));
    scratch.set(header, 0);
    scratch.set(data, header.length);
    return scratch.subarray(0, header.length + data.length);
  }
}
