// DNS over TCP on a real loopback socket: framing split across writes, several queries per
// connection, the idle timeout, the connection cap; and IPv6 listening.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { parseConfig } from "../../../src/config/load.ts";
import { buildEngine } from "../../../src/dns/server/engine.ts";
import { DnsPipeline } from "../../../src/dns/server/pipeline.ts";
import { DnsServer } from "../../../src/dns/server/dns-server.ts";
import { HealthBoard } from "../../../src/health/board.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { rcodeOf } from "../../helpers/raw-dns.ts";
import { dig } from "../../helpers/dig.ts";
import { waitFor } from "../../helpers/wait.ts";

const config = parseConfig(`
dns:
  listen_address: ["127.0.0.1:0", "[::1]:0"]
  zones: [tcp.test]
  nameservers: [{ name: ns1.tcp.test, addresses: [127.0.0.1] }]
data_dir: /tmp/unused
services:
  - name: app
    backends: [{ address: 192.0.2.1 }]
`);

const LIMITS = { idleTimeoutMs: 1000, maxConnections: 2 };
let server: DnsServer;
let port: number;

beforeAll(async () => {
  const board = new HealthBoard(new ManualClock());
  board.setServices(config.services);
  server = new DnsServer(new DnsPipeline(buildEngine(config, () => 1), board), LIMITS);
  await server.reconcile(config.dns.listen_address, LIMITS);
  port = server.bound()[0]!.tcpPort;
});

afterAll(() => server.close());

function framedQuery(id: number, name: string): Uint8Array {
  return new Uint8Array(dnsPacket.streamEncode({ type: "query", id, questions: [{ name, type: "A", class: "IN" }] }));
}

interface Client {
  received: Uint8Array;
  closed: boolean;
  write(b: Uint8Array): void;
  end(): void;
}

async function connect(): Promise<Client> {
  const client: Client = { received: new Uint8Array(0), closed: false, write: () => {}, end: () => {} };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        const next = new Uint8Array(client.received.length + chunk.length);
        next.set(client.received);
        next.set(chunk, client.received.length);
        client.received = next;
      },
      close() {
        client.closed = true;
      },
      error() {},
    },
  });
  client.write = (b) => void socket.write(b);
  client.end = () => socket.end();
  return client;
}

function messages(bytes: Uint8Array): dnsPacket.Packet[] {
  const out: dnsPacket.Packet[] = [];
  for (let at = 0; at + 2 <= bytes.length; ) {
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    out.push(dnsPacket.decode(Buffer.from(bytes.subarray(at + 2, at + 2 + length))));
    at += 2 + length;
  }
  return out;
}

describe("TCP", () => {
  test("answers several queries on one connection, in order, even when frames are split", async () => {
    const client = await connect();
    const both = new Uint8Array([...framedQuery(1, "app.tcp.test"), ...framedQuery(2, "nope.tcp.test")]);
    client.write(both.subarray(0, 5));
    await Bun.sleep(0);
    client.write(both.subarray(5));
    const replies = await waitFor("two replies", () => {
      const m = messages(client.received);
      return m.length === 2 ? m : undefined;
    });
    expect(replies.map((r) => r.id)).toEqual([1, 2]);
    expect(replies[0]!.answers?.[0]).toMatchObject({ type: "A", data: "192.0.2.1" });
    expect(rcodeOf(replies[1]!)).toBe("NXDOMAIN");
    client.end();
  });

  test("closes an idle connection after the idle timeout", async () => {
    const client = await connect();
    const opened = Date.now();
    await waitFor("the server to close the idle connection", () => client.closed, 5000);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
  });

  test("past max_connections a new connection is closed at once; the others keep working", async () => {
    await waitFor("earlier connections to be gone", () => server.tcpConnections() === 0, 5000);
    const a = await connect();
    const b = await connect();
    await waitFor("two connections", () => server.tcpConnections() === 2);
    const c = await connect();
    await waitFor("the third to be closed", () => c.closed, 2000);
    a.write(framedQuery(5, "app.tcp.test"));
    const replies = await waitFor("a reply on a kept connection", () => messages(a.received)[0]);
    expect(replies.id).toBe(5);
    a.end();
    b.end();
  });
});

describe("IPv6", () => {
  test("answers on ::1 over UDP and TCP", async () => {
    const v6 = server.bound().find((b) => b.host === "::1")!;
    expect((await dig("::1", v6.udpPort, ["app.tcp.test"])).answer).toEqual(["app.tcp.test. 30 IN A 192.0.2.1"]);
    expect((await dig("::1", v6.tcpPort, ["+tcp", "app.tcp.test"])).answer).toEqual(["app.tcp.test. 30 IN A 192.0.2.1"]);
  });
});
