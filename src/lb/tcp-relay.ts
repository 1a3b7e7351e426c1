// One client connection relayed to one backend: choosing the backend (by TLS server name when
// routing by SNI), connecting with a timeout and retrying on the next elected member, the PROXY
// header, copying bytes both ways with backpressure, idle timeouts, and closing both ends together.
//
// Hot path: Bun calls the shared handlers below with the socket, whose `data` leads straight here;
// a chunk is counted and written on, with no closure or copy per chunk.

import type { Socket, SocketHandler, TCPSocketConnectOptions } from "bun";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { ClientHelloReader } from "./client-hello.ts";
import type { Pool, PoolMember } from "./pool.ts";
import { proxyHeader } from "./proxy-protocol.ts";
import { SocketPeer, type ClientPeer } from "./tcp-peer.ts";
import type { TcpSettings } from "./tcp-settings.ts";
import type { ServerCounters } from "./types.ts";

/** After one end has closed, how long the other gets to take the last bytes and close too. */
export const CLOSE_LINGER_MS = 10_000;
/**
 * Bytes kept from a client whose backend is not connected yet; beyond this the client is paused.
 * Not pausing below it saves two epoll changes per connection, and most clients send far less.
 */
const EARLY_BYTES_BEFORE_PAUSE = 64 * 1024;

/** What a relay needs from the server that accepted it. */
export interface RelayHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: ServerCounters;
  relayEnded(relay: Relay): void;
}

type State = "handshake" | "hello" | "connecting" | "open" | "closing" | "closed";

/** One try at one backend; a late socket of an abandoned try is closed as soon as it shows up. */
class BackendAttempt {
  settled = false;
  timer: TimerHandle | undefined;

  constructor(
    readonly relay: Relay,
    readonly member: PoolMember,
    readonly startedAt: number,
  ) {}
}

export class Relay {
  private state: State = "connecting";
  private pool: Pool | undefined;
  private serverName: string | undefined;
  private hello: ClientHelloReader | undefined;
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private earlyPaused = false;
  /** Members that failed for this client; made on the first failure only. */
  private tried: Set<PoolMember> | undefined;
  private attempt: BackendAttempt | undefined;
  /** The member of the established backend connection. */
  private member: PoolMember | undefined;
  private backend: SocketPeer | undefined;
  private clientGone = false;
  private backendGone = false;
  private readonly tracksIdle: boolean;
  private lastClientAt: number;
  private lastBackendAt: number;
  private idleTimer: TimerHandle | undefined;
  private phaseTimer: TimerHandle | undefined;

  constructor(
    private readonly host: RelayHost,
    private readonly settings: TcpSettings,
    private readonly client: ClientPeer,
    /** Terminated TLS: the handshake comes first, and handshakeDone() continues. */
    private readonly terminatesTls: boolean,
  ) {
    const now = host.clock.now();
    this.lastClientAt = now;
    this.lastBackendAt = now;
    const { client_idle_timeout, backend_idle_timeout } = settings.config;
    this.tracksIdle = client_idle_timeout > 0 || backend_idle_timeout > 0;
    if (this.tracksIdle) this.armIdleTimer(Math.min(...[client_idle_timeout, backend_idle_timeout].filter((ms) => ms > 0)));
  }

  /** Begins: waits for the TLS handshake or the ClientHello, or connects at once. */
  start(): void {
    const { clock } = this.host;
    const sni = this.settings.sni;
    if (this.terminatesTls) {
      this.state = "handshake";
      if (sni) this.phaseTimer = clock.setTimeout(() => this.fail("errors", "no TLS handshake within sni.read_timeout"), sni.readTimeoutMs);
    } else if (sni) {
      this.state = "hello";
      this.hello = new ClientHelloReader();
      this.phaseTimer = clock.setTimeout(() => this.fail("errors", "no ClientHello within sni.read_timeout"), sni.readTimeoutMs);
    } else {
      this.route(undefined);
    }
  }

  /** Terminated TLS: the handshake is done; `serverName` is what the client asked for. */
  handshakeDone(serverName: string | undefined): void {
    if (this.state !== "handshake") return;
    this.phaseTimer?.cancel();
    this.route(serverName);
  }

  handshakeFailed(why: string): void {
    if (this.state === "handshake") this.fail("errors", why);
  }

  // ---- bytes from the client ----

  fromClient(chunk: Uint8Array): void {
    if (this.tracksIdle) this.moved();
    if (this.state !== "open") {
      // Closing: the backend has gone, so there is nobody left to send to.
      if (this.state !== "closing" && this.state !== "closed") this.holdEarly(chunk);
      return;
    }
    const n = chunk.length;
    this.host.counters.bytesIn += n;
    this.member!.bytesIn += n;
    if (!this.backend!.send(chunk)) this.client.pause();
  }

  clientDrained(): void {
    if (this.state !== "closed" && this.client.drained() && this.backend && !this.backendGone) this.backend.resume();
  }

  clientClosed(): void {
    if (this.state === "closed") return;
    this.clientGone = true;
    if (this.state !== "open" && this.state !== "closing") return this.finalize();
    if (this.backendGone) return this.finalize();
    this.backend!.finish();
    this.linger();
  }

  // ---- bytes from the backend ----

  fromBackend(attempt: BackendAttempt, chunk: Uint8Array): void {
    if (attempt !== this.attempt || this.state === "closed") return;
    if (this.tracksIdle) this.moved();
    const n = chunk.length;
    this.host.counters.bytesOut += n;
    this.member!.bytesOut += n;
    if (!this.client.send(chunk)) this.backend!.pause();
  }

  backendDrained(attempt: BackendAttempt): void {
    if (attempt !== this.attempt || this.state === "closed" || !this.backend) return;
    if (this.backend.drained() && !this.clientGone) this.client.resume();
  }

  backendClosed(attempt: BackendAttempt): void {
    if (!attempt.settled) return this.attemptFailed(attempt, "closed before it was ready");
    if (attempt !== this.attempt || this.state === "closed") return;
    this.backendGone = true;
    if (this.clientGone) return this.finalize();
    this.client.finish();
    this.linger();
  }

  /** Closes both ends now (the server is closing). */
  destroy(): void {
    if (this.state === "closed") return;
    this.client.destroy();
    this.backend?.destroy();
    this.finalize();
  }

  // ---- choosing and connecting a backend ----

  private holdEarly(chunk: Uint8Array): void {
    if (this.state === "hello") return this.readHello(chunk);
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > EARLY_BYTES_BEFORE_PAUSE && !this.earlyPaused) {
      this.earlyPaused = true;
      this.client.pause();
    }
  }

  private readHello(chunk: Uint8Array): void {
    let progress;
    try {
      progress = this.hello!.push(chunk);
    } catch (err) {
      return this.fail("errors", errorMessage(err));
    }
    if (!progress.done) return;
    this.phaseTimer?.cancel();
    this.early.push(this.hello!.received());
    this.earlyBytes = this.early[0]!.length;
    this.hello = undefined;
    this.route(progress.serverName);
  }

  private route(serverName: string | undefined): void {
    this.serverName = serverName;
    this.pool = this.settings.sni ? this.settings.sni.router.route(serverName) : this.settings.pools.main;
    if (!this.pool) return this.fail("refused", `no route for server name ${JSON.stringify(serverName ?? "")}`);
    this.state = "connecting";
    this.connect();
  }

  private connect(): void {
    const pool = this.pool!;
    const member = pool.elect(pool.usesClientAddress() ? this.client.address() : "", this.tried);
    if (!member) {
      return this.tried ? this.fail("errors", `all ${this.tried.size} backends tried failed`) : this.fail("refused", "no backend to send to");
    }
    member.opened();
    const attempt = new BackendAttempt(this, member, this.host.clock.now());
    this.attempt = attempt;
    attempt.timer = this.host.clock.setTimeout(() => this.attemptFailed(attempt, "connect timed out"), this.settings.config.backend_connection_timeout);
    const backendTls = this.settings.backendTls;
    const options: TCPSocketConnectOptions<BackendAttempt> = backendTls
      ? { hostname: member.target.address, port: member.target.port, data: attempt, socket: TLS_BACKEND_HANDLERS, tls: backendTls.options(this.serverName) }
      : { hostname: member.target.address, port: member.target.port, data: attempt, socket: PLAIN_BACKEND_HANDLERS };
    // connectError reports a failed connect, and with it set Bun does not treat the rejected promise as
    // unhandled, so no .catch (a closure and a promise per connection) is needed.
    try {
      void Bun.connect(options);
    } catch (err) {
      this.attemptFailed(attempt, errorMessage(err));
    }
  }

  /** The backend is connected (and its TLS handshake done): send the PROXY header and what the client sent so far. */
  backendReady(attempt: BackendAttempt, socket: Socket<BackendAttempt>): void {
    // Settled already: it timed out, or the client left (an unsettled attempt means we are connecting).
    if (attempt.settled) {
      socket.terminate();
      return;
    }
    attempt.settled = true;
    attempt.timer?.cancel();
    const now = this.host.clock.now();
    attempt.member.connected(now - attempt.startedAt);
    this.member = attempt.member;
    this.backend = new SocketPeer(socket as Socket<unknown>);
    this.lastBackendAt = now;
    this.state = "open";
    let flowing = true;
    const version = this.settings.config.proxy_protocol?.version;
    if (version) {
      const client = this.client;
      flowing = this.backend.send(
        proxyHeader(version, "tcp", { address: client.address(), port: client.port() }, { address: client.localAddress(), port: client.localPort() }),
      );
    }
    for (const chunk of this.early) {
      this.host.counters.bytesIn += chunk.length;
      this.member.bytesIn += chunk.length;
      flowing = this.backend.send(chunk) && flowing;
    }
    this.early = [];
    if (this.state !== "open") return;
    if (!flowing && !this.earlyPaused) this.client.pause();
    else if (flowing && this.earlyPaused) this.client.resume();
  }

  attemptFailed(attempt: BackendAttempt, why: string): void {
    if (attempt.settled) return;
    attempt.settled = true;
    attempt.timer?.cancel();
    attempt.member.closed();
    attempt.member.connectFailed();
    if (this.state !== "connecting") return;
    (this.tried ??= new Set()).add(attempt.member);
    this.host.log.debug("lb backend connect failed", { server: this.settings.config.name, backend: attempt.member.key, error: why });
    if (this.tried.size > this.settings.config.connect_retries) return this.fail("errors", `backend ${attempt.member.key}: ${why}; no retries left`);
    this.connect();
  }

  verifiesBackends(): boolean {
    return this.settings.config.backends_tls?.verify === true;
  }

  // ---- ending ----

  private fail(counter: "refused" | "errors", why: string): void {
    if (this.state === "closed") return;
    this.host.counters[counter]++;
    this.host.log.debug("lb connection closed", { server: this.settings.config.name, client: this.client.address(), why });
    this.destroy();
  }

  /** One end has closed: the other gets a bounded time to take the last bytes and close. */
  private linger(): void {
    // Closing a socket runs its close handler at once, so the relay may have ended meanwhile.
    if (this.state === "closing" || this.state === "closed") return;
    this.state = "closing";
    this.phaseTimer?.cancel();
    this.phaseTimer = this.host.clock.setTimeout(() => this.destroy(), CLOSE_LINGER_MS);
  }

  /**
   * Bytes moved one way or the other. Either timeout means "nothing moved": a client downloading in
   * silence is busy, and so is a backend taking an upload without a word.
   */
  private moved(): void {
    this.lastClientAt = this.lastBackendAt = this.host.clock.now();
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = this.host.clock.setTimeout(() => this.checkIdle(), ms);
  }

  private checkIdle(): void {
    if (this.state === "closed") return;
    const now = this.host.clock.now();
    const { client_idle_timeout, backend_idle_timeout } = this.settings.config;
    let next = Infinity;
    if (client_idle_timeout > 0) {
      const due = this.lastClientAt + client_idle_timeout;
      if (due <= now) return this.idleOut("client");
      next = due;
    }
    if (backend_idle_timeout > 0) {
      // The backend's silence counts only once it is connected; connecting has its own timeout.
      const due = this.state === "open" || this.state === "closing" ? this.lastBackendAt + backend_idle_timeout : now + backend_idle_timeout;
      if (due <= now) return this.idleOut("backend");
      next = Math.min(next, due);
    }
    this.armIdleTimer(next - now);
  }

  private idleOut(side: "client" | "backend"): void {
    this.host.log.debug("lb connection idle", { server: this.settings.config.name, client: this.client.address(), side });
    this.destroy();
  }

  private finalize(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.idleTimer?.cancel();
    this.phaseTimer?.cancel();
    const attempt = this.attempt;
    if (attempt && !attempt.settled) {
      attempt.settled = true;
      attempt.timer?.cancel();
      attempt.member.closed();
    }
    this.member?.closed();
    this.early = [];
    this.host.relayEnded(this);
  }
}

// Shared by every backend socket: `socket.data` is the attempt, which leads to its relay.
const BACKEND_EVENTS = {
  data(socket, chunk) {
    socket.data.relay.fromBackend(socket.data, chunk);
  },
  drain(socket) {
    socket.data.relay.backendDrained(socket.data);
  },
  close(socket) {
    socket.data.relay.backendClosed(socket.data);
  },
  connectError(socket, error) {
    socket.data.relay.attemptFailed(socket.data, error.message);
  },
  error() {
    // The close event that follows ends the relay; an error alone changes nothing.
  },
} satisfies SocketHandler<BackendAttempt>;

const PLAIN_BACKEND_HANDLERS: SocketHandler<BackendAttempt> = {
  ...BACKEND_EVENTS,
  open(socket) {
    socket.data.relay.backendReady(socket.data, socket);
  },
};

const TLS_BACKEND_HANDLERS: SocketHandler<BackendAttempt> = {
  ...BACKEND_EVENTS,
  handshake(socket, success, authorizationError) {
    const attempt = socket.data;
    // With verify off Bun still reports the failed verification; only a refused verification fails the try.
    if (!success && attempt.relay.verifiesBackends()) {
      attempt.relay.attemptFailed(attempt, `TLS: ${authorizationError?.message ?? "handshake failed"}`);
      socket.terminate();
      return;
    }
    attempt.relay.backendReady(attempt, socket);
  },
};
