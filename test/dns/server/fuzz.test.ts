// Bad packets at the server: random and mutated datagrams never throw, never go unanswered when
// an answer is due, and never stop the listener from answering the next good query.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { parseConfig } from "../../../src/config/load.ts";
import { buildEngine } from "../../../src/dns/server/engine.ts";
import { DnsPipeline } from "../../../src/dns/server/pipeline.ts";
import { DnsServer } from "../../../src/dns/server/dns-server.ts";
import { HealthBoard } from "../../../src/health/board.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { exchangeUdp, rcodeOf, readReply } from "../../helpers/raw-dns.ts";

const config = parseConfig(`
dns:
  listen_address: "127.0.0.1:0"
  zones: [fuzz.test]
  nameservers: [{ name: ns1.fuzz.test, addresses: [127.0.0.1] }]
  records: |
    www IN CNAME app
    @ IN MX 10 mail
    mail IN A 192.0.2.9
data_dir: /tmp/unused
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: "2001:db8::1" }]
`);

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const SEEDS = [
  dnsPacket.encode({ type: "query", id: 1, questions: [{ name: "app.fuzz.test", type: "A", class: "IN" }] }),
  dnsPacket.encode({
    type: "query",
    id: 2,
    questions: [{ name: "www.fuzz.test", type: "AAAA", class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK, options: [{ code: "CLIENT_SUBNET", ip: "10.0.0.0", sourcePrefixLength: 8 }] } as never],
  }),
  dnsPacket.encode({ type: "query", id: 3, questions: [{ name: "fuzz.test", type: "MX", class: "IN" }] }),
].map((b) => new Uint8Array(b));

function mutate(random: () => number, base: Uint8Array): Uint8Array {
  const bytes = Array.from(base);
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * bytes.length);
    switch (Math.floor(random() * 4)) {
      case 0:
        bytes[at] = Math.floor(random() * 256);
        break;
      case 1:
        bytes.splice(at);
        break;
      case 2:
        bytes.splice(at, 0, Math.floor(random() * 256));
        break;
      default:
        bytes[at] = [0, 0xc0, 0x3f, 0x40, 0xff][Math.floor(random() * 5)]!;
    }
  }
  return new Uint8Array(bytes);
}

function randomPacket(random: () => number): Uint8Array {
  const length = Math.floor(random() * 300);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

function makePipeline() {
  const board = new HealthBoard(new ManualClock());
  board.setServices(config.services);
  return new DnsPipeline(buildEngine(config, () => 1), board);
}

describe("the pipeline under bad input", () => {
  test("10,000 random and 10,000 mutated packets: no throw, every reply well formed with the asker's ID", () => {
    const pipeline = makePipeline();
    const random = seeded(20261122);
    for (let i = 0; i < 20_000; i++) {
      const packet = i < 10_000 ? randomPacket(random) : mutate(random, SEEDS[i % SEEDS.length]!);
      const reply = pipeline.handle(packet, "127.0.0.1", i % 2 ? "udp" : "tcp");
      if (reply === null) continue;
      expect(reply.length).toBeGreaterThanOrEqual(12);
      expect(reply[0]).toBe(packet[0]!);
      expect(reply[1]).toBe(packet[1]!);
      expect(reply[2]! & 0x80).toBe(0x80);
      expect(() => dnsPacket.decode(Buffer.from(reply))).not.toThrow();
    }
    expect(pipeline.stats.errors).toBe(0);
  });

  test("a packet that is a response, or shorter than a header, is dropped", () => {
    const pipeline = makePipeline();
    const response = SEEDS[0]!.slice();
    response[2]! |= 0x80;
    expect(pipeline.handle(response, "127.0.0.1", "udp")).toBeNull();
    expect(pipeline.handle(new Uint8Array(11), "127.0.0.1", "udp")).toBeNull();
  });

  test("two questions get FORMERR", () => {
    const pipeline = makePipeline();
    const two = dnsPacket.encode({
      type: "query",
      id: 9,
      questions: [
        { name: "app.fuzz.test", type: "A", class: "IN" },
        { name: "mail.fuzz.test", type: "A", class: "IN" },
      ],
    });
    const reply = dnsPacket.decode(Buffer.from(pipeline.handle(new Uint8Array(two), "127.0.0.1", "udp")!));
    expect(rcodeOf(reply)).toBe("FORMERR");
  });
});

describe("the UDP listener under bad input", () => {
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    server = new DnsServer(makePipeline(), { idleTimeoutMs: 1000, maxConnections: 10 });
    await server.reconcile([{ host: "127.0.0.1", port: 0 }], { idleTimeoutMs: 1000, maxConnections: 10 });
    port = server.bound()[0]!.udpPort;
  });

  afterAll(() => server.close());

  test("2,000 bad datagrams over the wire, then a good query is still answered", async () => {
    const random = seeded(7);
    const sender = await Bun.udpSocket({ socket: { data() {} } });
    for (let i = 0; i < 2000; i++) {
      sender.send(i % 2 ? randomPacket(random) : mutate(random, SEEDS[i % SEEDS.length]!), port, "127.0.0.1");
      if (i % 200 === 0) await Bun.sleep(0);
    }
    sender.close();
    const reply = await exchangeUdp(port, SEEDS[0]!);
    expect(reply).not.toBeNull();
    expect(readReply(reply!).answerCount).toBe(1);
  });
});
