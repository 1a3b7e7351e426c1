import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { dnsProbe } from "../../../src/checks/probes/dns.ts";
import { runProbe, targetOf, type SettingsOfKind } from "./loopback.ts";

type DnsSettings = SettingsOfKind<"dns">;
/** What the responder sends back for a query: packets, raw bytes, or a packet from a port the probe did not ask. */
type Outgoing = dnsPacket.Packet | Uint8Array | { fromAnotherPort: dnsPacket.Packet };

const BASE: DnsSettings = { type: "dns", query_name: "app.example.com", query_type: "A", expect_rcode: "NOERROR" };

/** A tiny DNS server on loopback: `respond` decides what each query gets back. */
async function startResponder(hostname: string) {
  const responder = {
    queries: [] as dnsPacket.DecodedPacket[],
    respond: (_query: dnsPacket.DecodedPacket): Outgoing[] => [],
    socket: await Bun.udpSocket({
      hostname,
      socket: {
        // A reply that lands after the probe closed its socket bounces; not this test's business.
        error() {},
        data(socket, bytes, port, address) {
          const query = dnsPacket.decode(bytes);
          responder.queries.push(query);
          for (const out of responder.respond(query)) {
            if (out instanceof Uint8Array) socket.send(out, port, address);
            else if ("fromAnotherPort" in out) elsewhere.send(dnsPacket.encode(out.fromAnotherPort), port, address);
            else socket.send(dnsPacket.encode(out), port, address);
          }
        },
      },
    }),
  };
  // The probe's connected socket refuses datagrams from elsewhere with an ICMP port unreachable, which
  // Bun reports as an error on this socket: that is the filter working, not a failure.
  const elsewhere = await Bun.udpSocket({ hostname, socket: { error() {} } });
  return { responder, stop: () => [responder.socket, elsewhere].forEach((s) => s.close()) };
}

const RCODES: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

/** The reply a server would give to `query`, with this rcode and these answers. */
function reply(query: dnsPacket.DecodedPacket, rcode: string, answers: dnsPacket.Answer[] = [], overrides: dnsPacket.Packet = {}): dnsPacket.Packet {
  return { type: "response", id: query.id, flags: RCODES[rcode]!, questions: query.questions, answers, ...overrides };
}

const a = (data: string): dnsPacket.Answer => ({ type: "A", name: "app.example.com", ttl: 30, data });

const { responder, stop } = await startResponder("127.0.0.1");
afterAll(stop);
beforeEach(() => {
  responder.queries.length = 0;
  responder.respond = (query) => [reply(query, "NOERROR", [a("192.0.2.1"), a("192.0.2.2")])];
});

const probe = (settings: Partial<DnsSettings> = {}, { port = responder.socket.port, timeout = 2000, address = "127.0.0.1" } = {}) =>
  runProbe(dnsProbe, targetOf({ ...BASE, ...settings }, port, { timeout, address }));

describe("dns probe: the query", () => {
  test("asks query_name/query_type with recursion desired and a random id", async () => {
    await probe({ query_type: "AAAA" });
    await probe({ query_type: "AAAA" });
    const [first, second] = responder.queries;
    expect(first?.questions).toEqual([{ name: "app.example.com", type: "AAAA", class: "IN" }]);
    expect(first?.flag_rd).toBe(true);
    expect(first?.id).not.toBe(second?.id);
  });
});

describe("dns probe: rcode", () => {
  test("NOERROR is up by default, counting the answers", async () => {
    expect(await probe()).toMatchObject({ status: "up", detail: "NOERROR, 2 answers" });
  });

  test("another rcode is down, unless it is the one expected", async () => {
    responder.respond = (query) => [reply(query, "NXDOMAIN")];
    expect(await probe()).toMatchObject({ status: "down", detail: "NXDOMAIN, expected NOERROR" });
    expect(await probe({ expect_rcode: "NXDOMAIN" })).toMatchObject({ status: "up", detail: "NXDOMAIN, 0 answers" });
  });
});

describe("dns probe: expect_answer", () => {
  test("up when some answer's data equals it, down naming what came otherwise", async () => {
    expect(await probe({ expect_answer: "192.0.2.2" })).toMatchObject({ status: "up", detail: "NOERROR, answer 192.0.2.2" });
    expect(await probe({ expect_answer: "192.0.2.9" })).toMatchObject({
      status: "down",
      detail: "answers 192.0.2.1, 192.0.2.2; expected 192.0.2.9",
    });
  });

  test("an empty answer is down", async () => {
    responder.respond = (query) => [reply(query, "NOERROR")];
    expect(await probe({ expect_answer: "192.0.2.1" })).toMatchObject({ status: "down", detail: "no answer, expected 192.0.2.1" });
  });

  test("addresses and names compare in canonical form", async () => {
    responder.respond = (query) => [reply(query, "NOERROR", [{ type: "AAAA", name: "app.example.com", ttl: 30, data: "2001:db8::1" }])];
    expect((await probe({ query_type: "AAAA", expect_answer: "2001:DB8:0:0::1" })).status).toBe("up");
    responder.respond = (query) => [
      reply(query, "NOERROR", [{ type: "MX", name: "example.com", ttl: 30, data: { preference: 10, exchange: "Mail.Example.com" } }]),
    ];
    expect((await probe({ query_type: "MX", expect_answer: "10 mail.example.com." })).status).toBe("up");
  });
});

describe("dns probe: replies that are not the answer", () => {
  test("wrong id, wrong question, garbage and packets from another port are ignored", async () => {
    responder.respond = (query) => [
      new Uint8Array([1, 2, 3]),
      reply(query, "SERVFAIL", [], { id: (query.id! + 1) & 0xffff }),
      reply(query, "SERVFAIL", [], { questions: [{ name: "other.example.com", type: "A", class: "IN" }] }),
      { fromAnotherPort: reply(query, "SERVFAIL") },
      reply(query, "NOERROR", [a("192.0.2.1")]),
    ];
    expect(await probe({ expect_answer: "192.0.2.1" })).toMatchObject({ status: "up", detail: "NOERROR, answer 192.0.2.1" });
  });

  test("no reply at all times out promptly", async () => {
    responder.respond = () => [];
    const started = performance.now();
    expect(await probe({}, { timeout: 300 })).toMatchObject({ status: "down", detail: "timeout after 300 ms" });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  test("a port with nothing listening is down as unreachable", async () => {
    const closed = await Bun.udpSocket({ hostname: "127.0.0.1" });
    const port = closed.port;
    closed.close();
    expect(await probe({}, { port })).toMatchObject({ status: "down", detail: "port unreachable" });
  });
});

test("dns probe reaches an IPv6 server", async () => {
  const v6 = await startResponder("::1");
  v6.responder.respond = (query) => [reply(query, "NOERROR", [a("192.0.2.7")])];
  try {
    expect((await probe({ expect_answer: "192.0.2.7" }, { address: "::1", port: v6.responder.socket.port })).status).toBe("up");
  } finally {
    v6.stop();
  }
});
