// Real loopback backends and clients for the balancer tests, and a server config with defaults.

import type { Socket, TCPSocketConnectOptions, TCPSocketListener, TLSOptions } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LbServerConfig } from "../../src/config/types.ts";
import { createLogger, type Logger } from "../../src/lib/log.ts";
import { parseHostPort } from "../../src/lib/hostport.ts";
import type { LbTarget } from "../../src/lb/types.ts";
import { waitFor } from "../helpers/wait.ts";

/** A tcp server on 127.0.0.1, port 0, with the config loader's defaults. */
export function serverConfig(overrides: Partial<LbServerConfig> = {}): LbServerConfig {
  return {
    name: "test",
    bind: { host: "127.0.0.1", port: 0 },
    protocol: "tcp",
    balance: "roundrobin",
    max_connections: 0,
    client_idle_timeout: 0,
    backend_idle_timeout: 0,
    backend_connection_timeout: 5_000,
    connect_retries: 2,
    access: { default: "allow", rules: [] },
    udp: { session_timeout: 30_000, max_requests: 0, max_replies: 0 },
    backends: { kind: "static", backends: [] },
    ...overrides,
  };
}

/** Log lines kept for assertions instead of printed. */
export function memoryLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", format: "text" }, { write: (line) => lines.push(line) }), lines };
}

interface BackendConnection {
  socket: Socket<unknown>;
  received: Buffer[];
  /** Echo bytes the socket could not take yet. */
  unsent: Buffer[];
  closed: boolean;
}

/** Writes what waits, in order; true when nothing is left. */
function flush(connection: BackendConnection): boolean {
  while (connection.unsent.length > 0) {
    const next = connection.unsent[0]!;
    const n = connection.socket.write(next);
    if (n < 0) return true;
    if (n < next.length) {
      connection.unsent[0] = next.subarray(n);
      return false;
    }
    connection.unsent.shift();
  }
  return true;
}

/**
 * A loopback backend that greets each connection with `${name}\n` (unless quiet) and echoes what it gets.
 * It keeps every connection with the bytes it received, so tests can look at PROXY headers.
 */
export class TestBackend {
  readonly connections: BackendConnection[] = [];
  private listener: TCPSocketListener<BackendConnection | undefined> | undefined;

  private constructor(
    readonly name: string,
    readonly host: string,
    private options: { greet: boolean; echo: boolean; tls?: TLSOptions },
  ) {}

  static start(name: string, host = "127.0.0.1", options: { greet?: boolean; echo?: boolean; tls?: TLSOptions } = {}): TestBackend {
    const backend = new TestBackend(name, host, { greet: options.greet ?? true, echo: options.echo ?? true, tls: options.tls });
    backend.listen(0);
    return backend;
  }

  port = 0;

  get key(): string {
    return `${this.host}:${this.port}`;
  }

  target(weight = 1): LbTarget {
    return { address: this.host, port: this.port, weight };
  }

  /** Connections still open. */
  open(): BackendConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  /** Every byte the n-th connection received. */
  bytesOf(n: number): Buffer {
    return Buffer.concat(this.connections[n]?.received ?? []);
  }

  /** Stops listening and drops every connection: the backend has died. */
  kill(): void {
    this.listener?.stop(true);
    this.listener = undefined;
    for (const c of this.connections) c.socket.terminate();
  }

  private listen(port: number): void {
    const self = this;
    this.listener = Bun.listen<BackendConnection | undefined>({
      hostname: this.host,
      port,
      data: undefined,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      socket: {
        open(socket) {
          const connection: BackendConnection = { socket: socket as Socket<unknown>, received: [], unsent: [], closed: false };
          socket.data = connection;
          self.connections.push(connection);
          if (self.options.greet) socket.write(`${self.name}\n`);
        },
        data(socket, chunk) {
          const connection = socket.data!;
          connection.received.push(Buffer.from(chunk));
          if (!self.options.echo) return;
          connection.unsent.push(Buffer.from(chunk));
          flush(connection);
        },
        drain(socket) {
          flush(socket.data!);
        },
        close(socket) {
          if (socket.data) socket.data.closed = true;
        },
      },
    });
    this.port = this.listener.port;
  }
}

/** A client of the balancer that keeps what it receives and knows when it was closed. */
export class TestClient {
  private chunks: Buffer[] = [];
  closed = false;
  socket!: Socket<undefined>;

  static async connect(address: string, options: { localAddress?: string; tls?: TLSOptions } = {}): Promise<TestClient> {
    const client = new TestClient();
    const { host, port } = parseHostPort(address);
    // localAddress works in Bun.connect though its typings do not list it yet.
    const connectOptions: TCPSocketConnectOptions<undefined> & { localAddress?: string } = {
      hostname: host,
      port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      socket: {
        data(_socket, chunk) {
          client.chunks.push(Buffer.from(chunk));
        },
        close() {
          client.closed = true;
        },
        error() {},
      },
    };
    client.socket = await Bun.connect(connectOptions);
    return client;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Waits until what was received contains `text`; returns everything received. */
  waitForText(text: string, what = `client to receive ${JSON.stringify(text)}`): Promise<string> {
    return waitFor(what, () => (this.text().includes(text) ? this.text() : undefined), 5_000);
  }

  waitClosed(what = "client connection to close"): Promise<true> {
    return waitFor(what, () => this.closed, 5_000);
  }

  /** The first line a greeting backend sent: which backend this client reached. */
  async backendName(): Promise<string> {
    const text = await this.waitForText("\n", "backend greeting");
    return text.slice(0, text.indexOf("\n"));
  }

  close(): void {
    this.socket.end();
  }
}

/** Connects, reads the greeting, closes; the name of the backend reached. */
export async function reachBackend(address: string, options?: { localAddress?: string; tls?: TLSOptions }): Promise<string> {
  const client = await TestClient.connect(address, options);
  try {
    return await client.backendName();
  } finally {
    client.close();
  }
}

/** A self-signed certificate for `name` (also in its subjectAltName), made by openssl in a temp dir. */
export async function selfSigned(dir: string, name: string): Promise<{ certPath: string; keyPath: string; cert: string; key: string }> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const proc = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`, "-keyout", keyPath, "-out", certPath],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  return { certPath, keyPath, cert: await Bun.file(certPath).text(), key: await Bun.file(keyPath).text() };
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "vigil-lb-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
