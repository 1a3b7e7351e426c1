import { afterEach, describe, expect, test } from "bun:test";
import type { udp } from "bun";
import type { LbServerConfig } from "../../src/config/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { parseHostPort } from "../../src/lib/hostport.ts";
import { Pool } from "../../src/lb/pool.ts";
import { UdpBalancer } from "../../src/lb/udp-server.ts";
import { waitFor } from "../helpers/wait.ts";
import { memoryLog, serverConfig } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A UDP backend on loopback answering each datagram with `${name}:${datagram}`, `replies` times. */
async function udpBackend(name: string, replies = 1) {
  const received: { data: Buffer; port: number }[] = [];
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(s, data, port, address) {
        received.push({ data: Buffer.from(data), port });
        for (let i = 0; i < replies; i++) s.send(`${name}:${data}`, port, address);
      },
    },
  });
  cleanups.push(() => socket.close());
  return { name, received, port: socket.port, target: (weight = 1) => ({ address: "127.0.0.1", port: socket.port, weight }), close: () => socket.close() };
}

/** A client on a loopback address, keeping every reply with where it came from. */
async function udpClient(host = "127.0.0.1") {
  const replies: { text: string; from: string }[] = [];
  const socket: udp.Socket<"buffer"> = await Bun.udpSocket({
    hostname: host,
    socket: { data: (_s, data, port, address) => void replies.push({ text: data.toString(), from: `${address}:${port}` }) },
  });
  cleanups.push(() => socket.close());
  return {
    replies,
    port: socket.port,
    send(text: string, to: string) {
      const { host: toHost, port } = parseHostPort(to);
      socket.send(text, port, toHost);
    },
    texts: () => replies.map((r) => r.text),
    waitReplies: (count: number) => waitFor(`${count} replies`, () => replies.length >= count, 5_000),
  };
}

async function start(backends: { target(): { address: string; port: number; weight: number } }[], overrides: Partial<LbServerConfig> = {}) {
  const clock = new ManualClock();
  const pool = new Pool("roundrobin", clock);
  pool.setTargets(backends.map((b) => b.target()));
  const { log, lines } = memoryLog();
  const config = serverConfig({ protocol: "udp", ...overrides });
  const balancer = await UdpBalancer.start(config, pool, clock, log);
  cleanups.push(() => balancer.close());
  return { balancer, pool, clock, lines, address: balancer.address(), config };
}

describe("udp balancer", () => {
  test("relays a datagram to a backend and its reply back from the balancer's own address", async () => {
    const a = await udpBackend("a");
    const { balancer, address } = await start([a]);
    const client = await udpClient();
    client.send("hello", address);
    await client.waitReplies(1);
    expect(client.replies).toEqual([{ text: "a:hello", from: address }]);
    expect(a.received.map((r) => r.data.toString())).toEqual(["hello"]);
    const stats = balancer.stats();
    expect(stats).toMatchObject({ protocol: "udp", bind: address, state: "running", active: 1, total: 1, refused: 0, bytesIn: 5, bytesOut: 7 });
    expect(stats.backends).toEqual([expect.objectContaining({ port: a.port, active: 1, total: 1, bytesIn: 5, bytesOut: 7 })]);
  });

  test("each client address is a session: its datagrams stay with one backend; sessions spread over backends", async () => {
    const a = await udpBackend("a");
    const b = await udpBackend("b");
    const { balancer, address } = await start([a, b]);
    const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(() => udpClient()));
    for (const round of [1, 2, 3]) {
      for (const client of clients) client.send(`r${round}`, address);
      await Promise.all(clients.map((c) => c.waitReplies(round)));
    }
    const backendOf = clients.map((c) => new Set(c.texts().map((t) => t.split(":")[0])));
    expect(backendOf.every((names) => names.size === 1)).toBe(true);
    const names = backendOf.map((s) => [...s][0]);
    expect(names.filter((n) => n === "a")).toHaveLength(3);
    expect(names.filter((n) => n === "b")).toHaveLength(3);
    // One backend socket per session: a backend sees each session from one port of the balancer.
    expect(new Set(a.received.map((r) => r.port)).size).toBe(3);
    expect(balancer.stats()).toMatchObject({ active: 6, total: 6 });
  });

  test("a session expires after session_timeout without a datagram either way; activity keeps it", async () => {
    const a = await udpBackend("a");
    const { balancer, address, clock } = await start([a], { udp: { session_timeout: 30_000, max_requests: 0, max_replies: 0 } });
    const client = await udpClient();
    client.send("one", address);
    await client.waitReplies(1);
    clock.advance(20_000);
    client.send("two", address);
    await client.waitReplies(2);
    clock.advance(29_000);
    expect(balancer.stats()).toMatchObject({ active: 1, total: 1 });
    clock.advance(1_000);
    expect(balancer.stats()).toMatchObject({ active: 0, total: 1 });
    expect(balancer.stats().backends[0]).toMatchObject({ active: 0, total: 1 });
    client.send("three", address);
    await client.waitReplies(3);
    expect(balancer.stats()).toMatchObject({ active: 1, total: 2 });
  });

  test("max_replies 1: the session ends with its reply, and the next exchange reuses the backend socket", async () => {
    const a = await udpBackend("a");
    const { balancer, address, clock } = await start([a], { udp: { session_timeout: 30_000, max_requests: 0, max_replies: 1 } });
    const client = await udpClient();
    for (const [i, query] of ["q1", "q2", "q3"].entries()) {
      client.send(query, address);
      await client.waitReplies(i + 1);
      await waitFor("the session to end", () => balancer.stats().active === 0);
    }
    expect(client.texts()).toEqual(["a:q1", "a:q2", "a:q3"]);
    expect(balancer.stats()).toMatchObject({ active: 0, total: 3 });
    expect(new Set(a.received.map((r) => r.port)).size).toBe(1);
    // The expiry timer finds nothing left and does not arm again.
    clock.advance(30_000);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("max_replies 1: a second reply to the same datagram does not reach the client", async () => {
    const chatty = await udpBackend("c", 2);
    const { address } = await start([chatty], { udp: { session_timeout: 30_000, max_requests: 0, max_replies: 1 } });
    const client = await udpClient();
    client.send("q1", address);
    await client.waitReplies(1);
    client.send("q2", address);
    await client.waitReplies(2);
    // The duplicate of q1's reply would have come before q2's.
    expect(client.texts().slice(0, 2)).toEqual(["c:q1", "c:q2"]);
  });

  test("max_replies 1: a session that sent more than it got back does not hand its socket on", async () => {
    const a = await udpBackend("a");
    const { balancer, address } = await start([a], { udp: { session_timeout: 30_000, max_requests: 0, max_replies: 1 } });
    const client = await udpClient();
    // A retransmission before the reply: the backend owes this session a second reply.
    client.send("q1", address);
    client.send("q1 again", address);
    await client.waitReplies(1);
    await waitFor("the session to end", () => balancer.stats().active === 0);
    client.send("q2", address);
    await waitFor("the reply to q2", () => client.texts().includes("a:q2"));
    expect(client.texts()).toEqual(["a:q1", "a:q2"]);
    const ports = a.received.map((r) => r.port);
    expect(ports[0]).toBe(ports[1]!);
    expect(ports[2]).not.toBe(ports[0]!);
  });

  test("max_requests 1: every datagram from a client starts its own session; replies still come back", async () => {
    const a = await udpBackend("a");
    const b = await udpBackend("b");
    const { balancer, address } = await start([a, b], { udp: { session_timeout: 30_000, max_requests: 1, max_replies: 0 } });
    const client = await udpClient();
    client.send("x", address);
    client.send("y", address);
    await client.waitReplies(2);
    expect(client.texts().toSorted()).toEqual(["a:x", "b:y"]);
    expect(balancer.stats()).toMatchObject({ active: 2, total: 2 });
  });

  test("access rules deny a client: nothing is sent on, and it is counted", async () => {
    const a = await udpBackend("a");
    const { balancer, address } = await start([a], { access: { default: "allow", rules: [{ action: "deny", network: "127.0.0.2/32" }] } });
    const denied = await udpClient("127.0.0.2");
    const allowed = await udpClient("127.0.0.1");
    denied.send("let me in", address);
    await waitFor("the denial", () => balancer.stats().denied === 1);
    allowed.send("hi", address);
    await allowed.waitReplies(1);
    expect(a.received.map((r) => r.data.toString())).toEqual(["hi"]);
    expect(denied.replies).toEqual([]);
    expect(balancer.stats()).toMatchObject({ denied: 1, total: 1 });
  });

  test("with no backend to send to, a new client is refused and counted", async () => {
    const { balancer, address } = await start([]);
    const client = await udpClient();
    client.send("anyone?", address);
    await waitFor("the refusal", () => balancer.stats().refused === 1);
    expect(balancer.stats()).toMatchObject({ active: 0, total: 0, refused: 1 });
  });

  test("max_connections caps live sessions", async () => {
    const a = await udpBackend("a");
    const { balancer, address } = await start([a], { max_connections: 1 });
    const first = await udpClient();
    const second = await udpClient();
    first.send("1", address);
    await first.waitReplies(1);
    second.send("2", address);
    await waitFor("the refusal", () => balancer.stats().refused === 1);
    expect(balancer.stats()).toMatchObject({ active: 1, total: 1 });
  });

  test("a backend whose port is closed ends its session as an error (ICMP port unreachable)", async () => {
    const dead = await udpBackend("dead");
    dead.close();
    const { balancer, address } = await start([dead]);
    const client = await udpClient();
    client.send("ping", address);
    client.send("ping again", address);
    await waitFor("the session to fail", () => balancer.stats().errors === 1);
    expect(balancer.stats()).toMatchObject({ active: 0, total: 1, errors: 1 });
    expect(balancer.stats().backends[0]).toMatchObject({ errors: 1, active: 0 });
  });

  test("a backend no socket can be made for is counted and the next backend takes the session (connect_retries)", async () => {
    const good = await udpBackend("good");
    // Port 0 cannot be connected to: making the socket fails.
    const unusable = { target: () => ({ address: "127.0.0.1", port: 0, weight: 1 }) };
    const { balancer, address } = await start([unusable, good], { connect_retries: 1 });
    const client = await udpClient();
    client.send("hi", address);
    await client.waitReplies(1);
    expect(client.texts()).toEqual(["good:hi"]);
    const [failed, took] = balancer.stats().backends;
    expect(failed).toMatchObject({ port: 0, errors: 1, active: 0 });
    expect(took).toMatchObject({ port: good.port, errors: 0, active: 1 });
    expect(balancer.stats()).toMatchObject({ active: 1, total: 1, errors: 0 });
  });

  test("without retries left, a backend no socket can be made for ends the session as an error", async () => {
    const good = await udpBackend("good");
    const unusable = { target: () => ({ address: "127.0.0.1", port: 0, weight: 1 }) };
    const { balancer, address } = await start([unusable, good], { connect_retries: 0 });
    const client = await udpClient();
    client.send("hi", address);
    await waitFor("the session to fail", () => balancer.stats().errors === 1);
    expect(balancer.stats()).toMatchObject({ active: 0, total: 1 });
    expect(good.received).toEqual([]);
  });

  test("PROXY protocol v2: every datagram to the backend starts with the client's and the listener's addresses", async () => {
    const a = await udpBackend("a");
    const { address } = await start([a], { proxy_protocol: { version: 2 } });
    const listenerPort = parseHostPort(address).port;
    const client = await udpClient();
    client.send("abc", address);
    client.send("de", address);
    await client.waitReplies(2);
    const header = Buffer.concat([
      Buffer.from("0d0a0d0a000d0a515549540a", "hex"),
      Buffer.of(0x21, 0x12, 0x00, 0x0c, 127, 0, 0, 1, 127, 0, 0, 1),
      Buffer.of(client.port >> 8, client.port & 0xff, listenerPort >> 8, listenerPort & 0xff),
    ]);
    expect(a.received.map((r) => r.data.toString("hex"))).toEqual([
      Buffer.concat([header, Buffer.from("abc")]).toString("hex"),
      Buffer.concat([header, Buffer.from("de")]).toString("hex"),
    ]);
  });

  test("a reload applies to new sessions: new access rules", async () => {
    const a = await udpBackend("a");
    const { balancer, address, config } = await start([a]);
    const early = await udpClient();
    early.send("1", address);
    await early.waitReplies(1);
    balancer.apply({ ...config, access: { default: "deny", rules: [] } });
    early.send("2", address);
    await early.waitReplies(2);
    const late = await udpClient();
    late.send("3", address);
    await waitFor("the denial", () => balancer.stats().denied === 1);
  });

  test("drain frees the address at once and ends every session", async () => {
    const a = await udpBackend("a");
    const { balancer, address, config } = await start([a]);
    const client = await udpClient();
    client.send("1", address);
    await client.waitReplies(1);
    await balancer.drain();
    expect(balancer.stats()).toMatchObject({ state: "draining", active: 0 });
    const again = await UdpBalancer.start({ ...config, bind: parseHostPort(address) }, new Pool("roundrobin", new ManualClock()), new ManualClock(), memoryLog().log);
    cleanups.push(() => again.close());
    expect(again.address()).toBe(address);
  });

  test("bad settings and a bind in use are refused with a clear error", async () => {
    const a = await udpBackend("a");
    const pool = new Pool("roundrobin", new ManualClock());
    const log = memoryLog().log;
    const udpConfig = serverConfig({ name: "dns-lb", protocol: "udp" });
    await expect(UdpBalancer.start({ ...udpConfig, proxy_protocol: { version: 1 } }, pool, new ManualClock(), log)).rejects.toThrow(
      "lb server dns-lb: proxy_protocol version 1 cannot describe UDP; use version 2",
    );
    await expect(UdpBalancer.start({ ...udpConfig, access: { default: "allow", rules: [{ action: "deny", network: "10.0.0/8" }] } }, pool, new ManualClock(), log)).rejects.toThrow(
      "access.rules[0].network",
    );
    await expect(UdpBalancer.start({ ...udpConfig, bind: { host: "127.0.0.1", port: a.port } }, pool, new ManualClock(), log)).rejects.toThrow(
      `lb server dns-lb: cannot listen on 127.0.0.1:${a.port}`,
    );
  });
});
