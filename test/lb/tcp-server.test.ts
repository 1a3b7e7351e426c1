// The tcp balancer over real loopback sockets: distribution per policy, retries past a dead backend,
// the accept gate, idle timeouts on an injected clock, PROXY headers as the backend reads them,
// backpressure, SNI passthrough routing, reloads and draining.

import { afterEach, describe, expect, test } from "bun:test";
import type { LbBalance, LbServerConfig } from "../../src/config/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { Pool } from "../../src/lb/pool.ts";
import { TcpBalancer } from "../../src/lb/tcp-server.ts";
import { waitFor } from "../helpers/wait.ts";
import { memoryLog, reachBackend, serverConfig, TestBackend, TestClient } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function backends(count: number, host = "127.0.0.1"): TestBackend[] {
  return Array.from({ length: count }, (_, i) => {
    const backend = TestBackend.start(String.fromCharCode(65 + i), host);
    cleanups.push(() => backend.kill());
    return backend;
  });
}

function balancer(config: Partial<LbServerConfig>, targets: TestBackend[], weights: number[] = []) {
  const clock = new ManualClock();
  const { log, lines } = memoryLog();
  const full = serverConfig(config);
  const pool = new Pool(full.balance, clock);
  pool.setTargets(targets.map((b, i) => b.target(weights[i] ?? 1)));
  const lb = TcpBalancer.start(full, { main: pool, sni: [] }, clock, log);
  cleanups.push(() => lb.close());
  return { lb, pool, clock, lines, address: lb.address() };
}

async function tally(address: string, times: number, localAddress?: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const name = await reachBackend(address, localAddress ? { localAddress } : {});
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

test("relays bytes both ways and counts them per server and per backend", async () => {
  const [a] = backends(1);
  const { lb, address } = balancer({}, [a!]);
  const client = await TestClient.connect(address);
  await client.waitForText("A\n");
  client.socket.write("ping-1234");
  await client.waitForText("ping-1234");
  client.close();
  await waitFor("connection to end", () => lb.stats().active === 0);
  const stats = lb.stats();
  expect(stats).toMatchObject({ name: "test", protocol: "tcp", bind: address, state: "running", total: 1, refused: 0, errors: 0, bytesIn: 9, bytesOut: 11 });
  expect(stats.backends).toEqual([
    expect.objectContaining({ address: "127.0.0.1", port: a!.port, active: 0, total: 1, errors: 0, bytesIn: 9, bytesOut: 11 }),
  ]);
  expect(stats.backends[0]!.connect.count).toBe(1);
});

test("a large transfer arrives intact", { timeout: 20_000 }, async () => {
  const [a] = backends(1);
  const { address } = balancer({}, [a!]);
  const client = await TestClient.connect(address);
  await client.waitForText("A\n");
  const payload = crypto.getRandomValues(new Uint8Array(4 * 1024 * 1024));
  let sent = 0;
  while (sent < payload.length) {
    const n = client.socket.write(payload.subarray(sent));
    sent += Math.max(n, 0);
    if (n <= 0) await Bun.sleep(1);
  }
  await waitFor("echo of 4 MiB", () => client.bytes().length >= payload.length + 2, 15_000);
  expect(Bun.hash(client.bytes().subarray(2))).toBe(Bun.hash(payload));
});

describe("distribution", () => {
  test("weight: 3:2:1 lands as 30:20:10", async () => {
    const list = backends(3);
    const { address } = balancer({ balance: "weight" }, list, [3, 2, 1]);
    expect(await tally(address, 60)).toEqual({ A: 30, B: 20, C: 10 });
  });

  test("roundrobin: even", async () => {
    const list = backends(3);
    const { address } = balancer({ balance: "roundrobin" }, list);
    expect(await tally(address, 30)).toEqual({ A: 10, B: 10, C: 10 });
  });

  test("leastconn: new clients go to the backend without long-held connections", async () => {
    const [a, b] = backends(2);
    const { address, pool } = balancer({ balance: "leastconn" }, [a!]);
    const held: TestClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await TestClient.connect(address);
      expect(await client.backendName()).toBe("A");
      held.push(client);
    }
    pool.setTargets([a!.target(), b!.target()]);
    const next: string[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await TestClient.connect(address);
      next.push(await client.backendName());
      held.push(client);
    }
    expect(next).toEqual(["B", "B", "B", "B"]);
    // Now 4 and 4: ties take turns.
    expect(Object.values(await tally(address, 4)).sort()).toEqual([2, 2]);
    for (const c of held) c.close();
  });

  test("iphash: each client address sticks to one backend; addresses spread", async () => {
    const list = backends(3);
    const { address } = balancer({ balance: "iphash" }, list);
    const seen = new Set<string>();
    for (let host = 2; host <= 9; host++) {
      const counts = await tally(address, 3, `127.0.0.${host}`);
      expect(Object.values(counts)).toEqual([3]);
      seen.add(Object.keys(counts)[0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  test.each(["weight", "roundrobin", "leastconn", "iphash", "leastbandwidth"] as LbBalance[])("%s never elects weight 0", async (balance) => {
    const [a, b] = backends(2);
    const { address } = balancer({ balance }, [a!, b!], [0, 1]);
    expect(await tally(address, 4)).toEqual({ B: 4 });
  });
});

describe("a backend dies", () => {
  test("its clients are cut; new clients retry past it onto the others", async () => {
    const [a, b, c] = backends(3);
    const { lb, address } = balancer({ balance: "roundrobin", connect_retries: 2 }, [a!, b!, c!]);
    const before = await Promise.all([0, 1, 2].map(() => TestClient.connect(address)));
    const names = await Promise.all(before.map((client) => client.backendName()));
    expect(names.sort()).toEqual(["A", "B", "C"]);
    const onA = before[names.indexOf("A")]!;

    a!.kill();
    await onA.waitClosed("client on the killed backend to be closed");
    // Without a ping check the dead one is still elected in turn; each such client is retried onto another.
    const after = await tally(address, 6);
    expect(Object.keys(after).sort()).toEqual(["B", "C"]);
    expect(after.B! + after.C!).toBe(6);
    const dead = lb.stats().backends.find((s) => s.port === a!.port)!;
    expect(dead.errors).toBeGreaterThan(0);
    expect(dead.active).toBe(0);
    expect(lb.stats().errors).toBe(0);
    for (const client of before) client.close();
  });

  test("with no retries left the client is closed and the error counted", async () => {
    const [a, b] = backends(2);
    const { lb, address } = balancer({ balance: "roundrobin", connect_retries: 0 }, [a!, b!]);
    a!.kill();
    const first = await TestClient.connect(address);
    await first.waitClosed();
    expect(first.text()).toBe("");
    expect(await reachBackend(address)).toBe("B");
    expect(lb.stats()).toMatchObject({ errors: 1, total: 2 });
  });

  test("a target that cannot even be tried (port out of range) fails like a refused connect", async () => {
    const [b] = backends(1);
    const { lb, address, pool } = balancer({ balance: "roundrobin" }, []);
    pool.setTargets([{ address: "127.0.0.1", port: 70_000, weight: 1 }, b!.target()]);
    expect(await tally(address, 4)).toEqual({ A: 4 });
    expect(lb.stats().backends[0]).toMatchObject({ port: 70_000, active: 0 });
    expect(lb.stats().backends[0]!.errors).toBeGreaterThan(0);
    expect(lb.stats().errors).toBe(0);
  });

  test("no backend at all: refused", async () => {
    const { lb, address, pool } = balancer({}, []);
    pool.setTargets([]);
    const client = await TestClient.connect(address);
    await client.waitClosed();
    expect(lb.stats()).toMatchObject({ refused: 1, errors: 0, active: 0 });
  });
});

describe("accept gate", () => {
  test("max_connections refuses the next client at once and counts it", async () => {
    const [a] = backends(1);
    const { lb, address } = balancer({ max_connections: 2 }, [a!]);
    const held = [await TestClient.connect(address), await TestClient.connect(address)];
    await Promise.all(held.map((c) => c.backendName()));
    const third = await TestClient.connect(address);
    await third.waitClosed("refused client to be closed");
    expect(third.text()).toBe("");
    expect(a!.connections).toHaveLength(2);
    expect(lb.stats()).toMatchObject({ refused: 1, active: 2, total: 2 });

    held[0]!.close();
    await waitFor("a slot to free", () => lb.stats().active === 1);
    expect(await reachBackend(address)).toBe("A");
    held[1]!.close();
  });

  test("access rules deny by client address, first match wins", async () => {
    const [a] = backends(1);
    const access = { default: "allow" as const, rules: [{ action: "allow" as const, network: "127.0.0.6/32" }, { action: "deny" as const, network: "127.0.0.0/29" }] };
    const { lb, address } = balancer({ access }, [a!]);
    const denied = await TestClient.connect(address, { localAddress: "127.0.0.5" });
    await denied.waitClosed("denied client to be closed");
    expect(denied.text()).toBe("");
    expect(await reachBackend(address, { localAddress: "127.0.0.6" })).toBe("A");
    expect(await reachBackend(address, { localAddress: "127.0.0.9" })).toBe("A");
    expect(a!.connections).toHaveLength(2);
    expect(lb.stats()).toMatchObject({ denied: 1, total: 2 });
  });
});

describe("idle timeouts (injected clock)", () => {
  async function echoOnce(client: TestClient, text: string): Promise<void> {
    client.socket.write(text);
    await client.waitForText(text);
  }

  test("client_idle_timeout closes a pair whose client stays silent", async () => {
    const [a] = backends(1);
    const { lb, address, clock } = balancer({ client_idle_timeout: 1_000 }, [a!]);
    const client = await TestClient.connect(address);
    await client.backendName();
    clock.advance(900);
    await echoOnce(client, "still-here");
    clock.advance(900);
    expect(client.closed).toBe(false);
    clock.advance(100);
    await client.waitClosed("idle client to be closed");
    await waitFor("backend side to close", () => a!.open().length === 0);
    expect(lb.stats()).toMatchObject({ active: 0, errors: 0 });
  });

  test("a silent client that is being sent bytes is not idle", async () => {
    const [a] = backends(1);
    const { address, clock } = balancer({ client_idle_timeout: 1_000 }, [a!]);
    const client = await TestClient.connect(address);
    await client.backendName();
    for (let i = 0; i < 3; i++) {
      clock.advance(900);
      a!.open()[0]!.socket.write(`push-${i}`);
      await client.waitForText(`push-${i}`);
    }
    expect(client.closed).toBe(false);
    clock.advance(1_000);
    await client.waitClosed("client idle once nothing moves");
  });

  test("backend_idle_timeout closes a pair whose backend stays silent", async () => {
    const silent = TestBackend.start("S", "127.0.0.1", { greet: false, echo: false });
    cleanups.push(() => silent.kill());
    const { address, clock } = balancer({ backend_idle_timeout: 500 }, [silent]);
    const client = await TestClient.connect(address);
    await waitFor("backend connection", () => silent.connections.length === 1);
    client.socket.write("talking to a wall");
    await waitFor("backend to receive", () => silent.bytesOf(0).length > 0);
    clock.advance(499);
    expect(client.closed).toBe(false);
    clock.advance(1);
    await client.waitClosed("client of a silent backend to be closed");
  });
});

describe("PROXY protocol", () => {
  test("v1: the backend reads the header line, then the client's bytes", async () => {
    const quiet = TestBackend.start("Q", "127.0.0.1", { greet: false, echo: false });
    cleanups.push(() => quiet.kill());
    const { address } = balancer({ proxy_protocol: { version: 1 } }, [quiet]);
    const lbPort = Number(address.split(":")[1]);
    const client = await TestClient.connect(address, { localAddress: "127.0.0.7" });
    client.socket.write("hello");
    await waitFor("backend to receive", () => quiet.bytesOf(0).includes("hello"));
    const clientPort = client.socket.localPort;
    expect(quiet.bytesOf(0).toString()).toBe(`PROXY TCP4 127.0.0.7 127.0.0.1 ${clientPort} ${lbPort}\r\nhello`);
    client.close();
  });

  test("v2: signature, TCP over IPv4, addresses and ports, then the client's bytes", async () => {
    const quiet = TestBackend.start("Q", "127.0.0.1", { greet: false, echo: false });
    cleanups.push(() => quiet.kill());
    const { address } = balancer({ proxy_protocol: { version: 2 } }, [quiet]);
    const lbPort = Number(address.split(":")[1]);
    const client = await TestClient.connect(address, { localAddress: "127.0.0.8" });
    client.socket.write("hello");
    await waitFor("backend to receive", () => quiet.bytesOf(0).includes("hello"));
    const port = (n: number) => n.toString(16).padStart(4, "0");
    const expected =
      "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "7f000008" + "7f000001" + port(client.socket.localPort) + port(lbPort) +
      Buffer.from("hello").toString("hex");
    expect(quiet.bytesOf(0).toString("hex")).toBe(expected);
    client.close();
  });
});

test("backpressure: a client that stops reading stops the backend, and nothing is lost", { timeout: 30_000 }, async () => {
  const payload = crypto.getRandomValues(new Uint8Array(1024 * 1024));
  const total = 48 * payload.length;
  let written = 0;
  let blocked = false;
  // Sends `payload` over and over, resuming mid-payload after a short write.
  const pump = (socket: { write(bytes: Uint8Array): number }) => {
    while (written < total) {
      const offset = written % payload.length;
      const n = socket.write(payload.subarray(offset));
      written += Math.max(n, 0);
      if (n < payload.length - offset) {
        blocked = true;
        return;
      }
    }
  };
  const firehose = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: pump, drain: pump, data() {} } });
  cleanups.push(() => firehose.stop(true));
  const { address, pool } = balancer({}, []);
  pool.setTargets([{ address: "127.0.0.1", port: firehose.port, weight: 1 }]);

  const client = await TestClient.connect(address);
  client.socket.pause();
  await waitFor("the backend to be blocked", () => blocked);
  // Once the balancer has paused its reads, the backend's writes stop growing for good.
  let last = -1;
  const stalledAt = await waitFor(
    "the backend's writes to stop growing",
    () => {
      const settled = written === last ? written : undefined;
      last = written;
      return settled;
    },
    5_000,
    100,
  );
  // Kernel socket buffers on both hops and one held chunk: far less than the whole transfer.
  expect(stalledAt).toBeLessThan(total / 2);
  expect(client.bytes().length).toBe(0);
  client.socket.resume();
  await waitFor("the whole transfer", () => client.bytes().length >= total, 20_000);
  const received = client.bytes();
  expect(received.length).toBe(total);
  for (let i = 0; i < total; i += payload.length) {
    if (Bun.hash(received.subarray(i, i + payload.length)) !== Bun.hash(payload)) throw new Error(`corrupted in the MiB at ${i}`);
  }
});

describe("lifecycle", () => {
  test("a bind that fails throws a clear error", () => {
    const [a] = backends(1);
    const { address } = balancer({}, [a!]);
    const port = Number(address.split(":")[1]);
    expect(() => balancer({ bind: { host: "127.0.0.1", port } }, [a!])).toThrow(
      `lb server test: cannot listen on 127.0.0.1:${port}: EADDRINUSE (`,
    );
  });

  test("a config that cannot be used throws before binding", () => {
    expect(() => balancer({ access: { default: "allow", rules: [{ action: "deny", network: "10.0.0.1/8" }] } }, [])).toThrow(
      "access.rules[0].network: ",
    );
    expect(() => balancer({ backends_tls: { verify: true, ca_path: "/nonexistent/ca.pem" } }, [])).toThrow(
      'backends_tls.ca_path: cannot read "/nonexistent/ca.pem"',
    );
  });

  test("apply: new limits and rules for new connections; established ones untouched", async () => {
    const [a] = backends(1);
    const { lb, address } = balancer({}, [a!]);
    const established = [await TestClient.connect(address), await TestClient.connect(address)];
    await Promise.all(established.map((c) => c.backendName()));

    lb.apply(serverConfig({ max_connections: 1, access: { default: "deny", rules: [{ action: "allow", network: "127.0.0.3/32" }] } }));
    const refused = await TestClient.connect(address, { localAddress: "127.0.0.3" });
    await refused.waitClosed("client over the new limit to be closed");
    const denied = await TestClient.connect(address, { localAddress: "127.0.0.4" });
    await denied.waitClosed("client outside the new rules to be closed");
    expect(lb.stats()).toMatchObject({ refused: 1, denied: 1, active: 2 });

    // The two established pairs still relay.
    for (const [i, client] of established.entries()) {
      client.socket.write(`still-${i}`);
      await client.waitForText(`still-${i}`);
    }
    for (const client of established) client.close();
  });

  test("apply: a config that cannot be used is refused and the old one keeps serving", async () => {
    const [a] = backends(1);
    const { lb, address } = balancer({}, [a!]);
    expect(() => lb.apply(serverConfig({ access: { default: "allow", rules: [{ action: "deny", network: "nonsense" }] } }))).toThrow(
      "access.rules[0].network",
    );
    expect(await reachBackend(address)).toBe("A");
  });

  test("drain: stops accepting at once, the same address can be bound again, resolves when the last client leaves", async () => {
    const [a] = backends(1);
    const { lb, address } = balancer({}, [a!]);
    const client = await TestClient.connect(address);
    await client.backendName();
    let drained = false;
    const done = lb.drain().then(() => (drained = true));
    expect(lb.stats().state).toBe("draining");
    expect(TestClient.connect(address)).rejects.toThrow();

    const port = Number(address.split(":")[1]);
    const { address: again } = balancer({ bind: { host: "127.0.0.1", port } }, [a!]);
    expect(await reachBackend(again)).toBe("A");

    client.socket.write("during drain");
    await client.waitForText("during drain");
    expect(drained).toBe(false);
    client.close();
    await done;
    expect(lb.stats().active).toBe(0);
  });

  test("close: every connection is closed now", async () => {
    const [a] = backends(1);
    const { lb, address } = balancer({}, [a!]);
    const clients = [await TestClient.connect(address), await TestClient.connect(address)];
    await Promise.all(clients.map((c) => c.backendName()));
    lb.close();
    await Promise.all(clients.map((c) => c.waitClosed()));
    await waitFor("backend sides to close", () => a!.open().length === 0);
    expect(lb.stats().active).toBe(0);
    expect(lb.stats().backends[0]!.active).toBe(0);
  });
});
