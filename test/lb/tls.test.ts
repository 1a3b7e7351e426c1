// TLS in the balancer, over real loopback sockets with certificates openssl makes per run:
// termination choosing the certificate and the pool by SNI, SNI routing of passthrough TCP,
// TLS towards backends with and without verification, and a backend whose handshake hangs.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { LbServerConfig } from "../../src/config/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { Pool } from "../../src/lb/pool.ts";
import { TcpBalancer } from "../../src/lb/tcp-server.ts";
import { waitFor } from "../helpers/wait.ts";
import { memoryLog, selfSigned, serverConfig, tempDir, TestBackend, TestClient } from "./helpers.ts";

type Cert = Awaited<ReturnType<typeof selfSigned>>;
const dir = tempDir();
let certA: Cert;
let certB: Cert;
let certBackend: Cert;
beforeAll(async () => {
  [certA, certB, certBackend] = await Promise.all([selfSigned(dir.path, "a.test"), selfSigned(dir.path, "b.test"), selfSigned(dir.path, "backend.test")]);
});
afterAll(() => dir.remove());

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function backend(name: string, options: Parameters<typeof TestBackend.start>[2] = {}): TestBackend {
  const started = TestBackend.start(name, "127.0.0.1", options);
  cleanups.push(() => started.kill());
  return started;
}

function start(config: Partial<LbServerConfig>, main: TestBackend[], routes: { names: string[]; to: TestBackend[] }[] = []) {
  const clock = new ManualClock();
  const { log, lines } = memoryLog();
  const pool = (list: TestBackend[]) => {
    const p = new Pool("roundrobin", clock);
    p.setTargets(list.map((b) => b.target()));
    return p;
  };
  const lb = TcpBalancer.start(
    serverConfig(config),
    { main: pool(main), sni: routes.map((r) => ({ names: r.names, pool: pool(r.to) })) },
    clock,
    log,
  );
  cleanups.push(() => lb.close());
  return { lb, clock, lines, address: lb.address() };
}

const sniConfig = (unexpected: "default" | "deny", readTimeout = 5_000, names = ["b.test"]): LbServerConfig["sni"] => ({
  routes: [{ server_names: names, backends: { kind: "static", backends: [] } }],
  unexpected_hostname: unexpected,
  read_timeout: readTimeout,
});

describe("termination", () => {
  const terminating = (unexpected: "default" | "deny" = "default") =>
    ({
      protocol: "tls",
      tls: {
        certificates: [
          { cert_path: certA.certPath, key_path: certA.keyPath, server_names: [] },
          { cert_path: certB.certPath, key_path: certB.keyPath, server_names: ["b.test", "*.b.test"] },
        ],
      },
      sni: sniConfig(unexpected, 5_000, ["b.test", "*.b.test"]),
    }) satisfies Partial<LbServerConfig>;

  /** Connects with TLS, trusting only `ca`; resolves with the certificate's CN and the backend reached. */
  async function visit(address: string, serverName: string, ca: Cert) {
    const client = await TestClient.connect(address, { tls: { serverName, ca: ca.cert, rejectUnauthorized: true } });
    cleanups.push(() => client.close());
    const name = await client.backendName();
    const subject = client.socket.getPeerCertificate().subject as { CN?: string };
    return { cn: subject.CN, backend: name, authorized: client.socket.authorized };
  }

  test("each name gets its own certificate and its own pool", async () => {
    const main = backend("MAIN");
    const routed = backend("ROUTED");
    const { lb, address } = start(terminating(), [main], [{ names: ["b.test", "*.b.test"], to: [routed] }]);
    expect(await visit(address, "a.test", certA)).toEqual({ cn: "a.test", backend: "MAIN", authorized: true });
    expect(await visit(address, "b.test", certB)).toEqual({ cn: "b.test", backend: "ROUTED", authorized: true });
    expect(lb.stats().backends.map((b) => [b.port, b.total])).toEqual([
      [main.port, 1],
      [routed.port, 1],
    ]);
  });

  test("bytes relay both ways through the terminated TLS", async () => {
    const main = backend("MAIN");
    const { lb, address } = start(terminating(), [main]);
    const client = await TestClient.connect(address, { tls: { serverName: "a.test", ca: certA.cert } });
    await client.backendName();
    client.socket.write("over tls");
    await client.waitForText("over tls");
    expect(main.bytesOf(0).toString()).toBe("over tls");
    client.close();
    await waitFor("the relay to end", () => lb.stats().active === 0);
    expect(lb.stats()).toMatchObject({ bytesIn: 8, bytesOut: 5 + 8, errors: 0 });
  });

  test("unknown names get the first certificate and the server's own pool", async () => {
    const main = backend("MAIN");
    const routed = backend("ROUTED");
    const { address } = start(terminating(), [main], [{ names: ["b.test"], to: [routed] }]);
    const client = await TestClient.connect(address, { tls: { serverName: "other.test", rejectUnauthorized: false } });
    expect(await client.backendName()).toBe("MAIN");
    expect((client.socket.getPeerCertificate().subject as { CN?: string }).CN).toBe("a.test");
    client.close();
  });

  test("a wildcard route and certificate match one label", async () => {
    const main = backend("MAIN");
    const routed = backend("ROUTED");
    const { address } = start(terminating(), [main], [{ names: ["b.test", "*.b.test"], to: [routed] }]);
    const client = await TestClient.connect(address, { tls: { serverName: "x.b.test", rejectUnauthorized: false } });
    expect(await client.backendName()).toBe("ROUTED");
    expect((client.socket.getPeerCertificate().subject as { CN?: string }).CN).toBe("b.test");
    client.close();
  });

  test("unexpected_hostname deny: unknown names are refused after the handshake", async () => {
    const main = backend("MAIN");
    const { lb, address } = start(terminating("deny"), [main], [{ names: ["b.test"], to: [backend("ROUTED")] }]);
    const client = await TestClient.connect(address, { tls: { serverName: "other.test", rejectUnauthorized: false } });
    await client.waitClosed("client with an unknown name to be closed");
    expect(client.text()).toBe("");
    expect(main.connections).toHaveLength(0);
    expect(lb.stats()).toMatchObject({ refused: 1, active: 0 });
  });

  test("a client that does not speak TLS is an error, and its connection ends", async () => {
    const main = backend("MAIN");
    const { lb, address } = start(terminating(), [main]);
    const client = await TestClient.connect(address);
    client.socket.write("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    await client.waitClosed();
    await waitFor("the failed handshake to be counted", () => lb.stats().errors === 1);
    expect(lb.stats().active).toBe(0);
    expect(main.connections).toHaveLength(0);
  });

  test("max_connections and access rules apply before the handshake", async () => {
    const main = backend("MAIN");
    const { lb, address } = start(
      { ...terminating(), max_connections: 1, access: { default: "allow", rules: [{ action: "deny", network: "127.0.0.9/32" }] } },
      [main],
    );
    const denied = await TestClient.connect(address, { localAddress: "127.0.0.9" });
    await denied.waitClosed("denied client to be closed");
    const first = await TestClient.connect(address, { tls: { serverName: "a.test", ca: certA.cert } });
    await first.backendName();
    const second = await TestClient.connect(address);
    await second.waitClosed("client over the limit to be closed");
    expect(lb.stats()).toMatchObject({ denied: 1, refused: 1, active: 1 });
    first.close();
  });

  test.each([
    [
      "a missing certificate file",
      () => [{ cert_path: `${dir.path}/none.crt`, key_path: certA.keyPath, server_names: [] }],
      /^tls\.certificates\[0\]\.cert_path: cannot read ".*none\.crt": /,
    ],
    [
      "a key of another certificate",
      () => [
        { cert_path: certA.certPath, key_path: certA.keyPath, server_names: [] },
        { cert_path: certB.certPath, key_path: certA.keyPath, server_names: [] },
      ],
      /^tls\.certificates\[1\]: the key in key_path does not belong to the certificate in cert_path$/,
    ],
    [
      "a key file that is not a key",
      () => [{ cert_path: certA.certPath, key_path: certA.certPath, server_names: [] }],
      /^tls\.certificates\[0\]\.key_path: not a PEM private key/,
    ],
    ["no certificate at all", () => [], /^tls\.certificates: at least one certificate is needed to terminate TLS$/],
  ])("%s: start throws a clear error", (_what, certificates, problem) => {
    expect(() => start({ protocol: "tls", tls: { certificates: certificates() } }, [])).toThrow(problem);
  });

  test("drain: no new handshakes, the open session keeps relaying until its client leaves", async () => {
    const main = backend("MAIN");
    const { lb, address } = start(terminating(), [main]);
    const client = await TestClient.connect(address, { tls: { serverName: "a.test", ca: certA.cert } });
    await client.backendName();
    let drained = false;
    const done = lb.drain().then(() => (drained = true));
    expect(TestClient.connect(address)).rejects.toThrow();
    client.socket.write("after drain");
    await client.waitForText("after drain");
    expect(drained).toBe(false);
    client.close();
    await done;
    expect(lb.stats().active).toBe(0);
  });

  test("a bind that fails throws a clear error", () => {
    const { address } = start(terminating(), []);
    const port = Number(address.split(":")[1]);
    expect(() => start({ ...terminating(), bind: { host: "127.0.0.1", port } }, [])).toThrow(
      `lb server test: cannot listen on 127.0.0.1:${port}: EADDRINUSE (`,
    );
  });
});

describe("SNI routing of passthrough TCP", () => {
  const tlsBackend = (name: string, cert: Cert) => backend(name, { tls: { cert: cert.cert, key: cert.key } });

  test("the ClientHello's name picks the pool; the TLS session is the backend's own", async () => {
    const main = tlsBackend("MAIN", certA);
    const routed = tlsBackend("ROUTED", certB);
    const { address } = start({ sni: sniConfig("default") }, [main], [{ names: ["b.test"], to: [routed] }]);
    const toB = await TestClient.connect(address, { tls: { serverName: "B.test", ca: certB.cert } });
    expect(await toB.backendName()).toBe("ROUTED");
    expect(toB.socket.authorized).toBe(true);
    const toA = await TestClient.connect(address, { tls: { serverName: "a.test", ca: certA.cert } });
    expect(await toA.backendName()).toBe("MAIN");
    toB.close();
    toA.close();
  });

  test("deny: an unknown name is refused without reaching a backend", async () => {
    const main = tlsBackend("MAIN", certA);
    const { lb, address } = start({ sni: sniConfig("deny") }, [main], [{ names: ["b.test"], to: [tlsBackend("ROUTED", certB)] }]);
    const client = await TestClient.connect(address, { tls: { serverName: "a.test", rejectUnauthorized: false } });
    await client.waitClosed();
    expect(main.connections).toHaveLength(0);
    expect(lb.stats()).toMatchObject({ refused: 1 });
  });

  test("a client that is not TLS gets a clear error in the log and is closed", async () => {
    const { lb, lines, address } = start({ sni: sniConfig("default") }, [tlsBackend("MAIN", certA)]);
    const client = await TestClient.connect(address);
    client.socket.write("GET / HTTP/1.1\r\n\r\n");
    await client.waitClosed();
    expect(lb.stats()).toMatchObject({ errors: 1, active: 0 });
    expect(lines.join("\n")).toContain("TLS ClientHello: expected a TLS handshake record (type 22), got type 71");
  });

  test("read_timeout: a client that sends no ClientHello is closed (injected clock)", async () => {
    const { lb, clock, address } = start({ sni: sniConfig("default", 3_000) }, [tlsBackend("MAIN", certA)]);
    const client = await TestClient.connect(address);
    await waitFor("the connection to be accepted", () => lb.stats().active === 1);
    clock.advance(2_999);
    expect(client.closed).toBe(false);
    clock.advance(1);
    await client.waitClosed("a silent client to be closed");
    expect(lb.stats()).toMatchObject({ errors: 1, active: 0 });
  });
});

describe("backends_tls", () => {
  test("verify on with the backend's CA and name: relays", async () => {
    const tlsBack = backend("SECURE", { tls: { cert: certBackend.cert, key: certBackend.key } });
    const { address } = start({ backends_tls: { verify: true, server_name: "backend.test", ca_path: certBackend.certPath } }, [tlsBack]);
    const client = await TestClient.connect(address);
    expect(await client.backendName()).toBe("SECURE");
    client.socket.write("plain in, tls out");
    await client.waitForText("plain in, tls out");
    client.close();
  });

  test("verify on and a certificate that does not check out: the connect fails and the client is closed", async () => {
    const tlsBack = backend("SECURE", { tls: { cert: certBackend.cert, key: certBackend.key } });
    const { lb, address } = start({ connect_retries: 0, backends_tls: { verify: true, server_name: "wrong.test", ca_path: certBackend.certPath } }, [tlsBack]);
    const client = await TestClient.connect(address);
    await client.waitClosed();
    expect(client.text()).toBe("");
    expect(lb.stats()).toMatchObject({ errors: 1 });
    expect(lb.stats().backends[0]).toMatchObject({ errors: 1, active: 0 });
  });

  test("verify off: a self-signed backend is accepted", async () => {
    const tlsBack = backend("SECURE", { tls: { cert: certBackend.cert, key: certBackend.key } });
    const { address } = start({ backends_tls: { verify: false } }, [tlsBack]);
    const client = await TestClient.connect(address);
    expect(await client.backendName()).toBe("SECURE");
    client.close();
  });

  test("a backend whose handshake hangs times out (injected clock) and the next one is tried", async () => {
    const hung = backend("HUNG", { greet: false, echo: false }); // plain TCP: never answers the ClientHello
    const good = backend("SECURE", { tls: { cert: certBackend.cert, key: certBackend.key } });
    const { lb, clock, address } = start({ backend_connection_timeout: 2_000, backends_tls: { verify: false } }, [hung, good]);
    const client = await TestClient.connect(address);
    await waitFor("the hung backend to be reached", () => hung.connections.length === 1);
    clock.advance(1_999);
    expect(good.connections).toHaveLength(0);
    clock.advance(1);
    expect(await client.backendName()).toBe("SECURE");
    const stats = lb.stats().backends;
    expect(stats.find((b) => b.port === hung.port)).toMatchObject({ errors: 1, active: 0 });
    expect(stats.find((b) => b.port === good.port)).toMatchObject({ errors: 0, active: 1 });
    client.close();
  });
});
