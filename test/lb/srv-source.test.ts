import { afterEach, describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { SrvSource, type SrvSourceConfig } from "../../src/lb/sources/srv-source.ts";
import { lookupSrv } from "../../src/lb/srv-lookup.ts";
import type { LbTarget } from "../../src/lb/types.ts";
import { waitFor } from "../helpers/wait.ts";

const NAME = "_app._tcp.lb.test";

/** What the test server does with each question. */
type Behaviour = "answer" | "drop" | "malformed" | "nxdomain" | "truncate";

interface Zone {
  srv: { target: string; port: number; weight: number; priority?: number }[];
  /** Owner name → addresses (A or AAAA by their form). */
  addresses: Record<string, string[]>;
  /** Put the targets' addresses in the additional section of the SRV reply. */
  glue: boolean;
}

/**
 * A tiny authoritative server on loopback (UDP and TCP on one port) answering from `zone`; the test
 * changes `zone` and `behaviour` as it goes and reads what was asked.
 */
async function srvServer(zone: Zone) {
  const state = { zone, behaviour: "answer" as Behaviour, asked: [] as string[] };
  const reply = (query: dnsPacket.DecodedPacket, overTcp: boolean): Uint8Array | undefined => {
    const question = query.questions![0]!;
    state.asked.push(`${overTcp ? "tcp" : "udp"} ${question.type} ${question.name}`);
    if (state.behaviour === "drop") return undefined;
    if (state.behaviour === "malformed") return Uint8Array.of(0x12, 0x34, 0x81);
    const base = { type: "response" as const, id: query.id, questions: [question] };
    if (state.behaviour === "nxdomain") return dnsPacket.encode({ ...base, flags: 3 });
    if (state.behaviour === "truncate" && !overTcp) return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE });
    return dnsPacket.encode({ ...base, answers: answersTo(question), additionals: question.type === "SRV" && state.zone.glue ? glue() : [] });
  };
  const addressRecords = (name: string, family?: "A" | "AAAA"): dnsPacket.Answer[] =>
    (state.zone.addresses[name] ?? [])
      .map((address) => ({ type: address.includes(":") ? ("AAAA" as const) : ("A" as const), name, ttl: 30, data: address }))
      .filter((r) => family === undefined || r.type === family);
  const answersTo = (q: dnsPacket.Question): dnsPacket.Answer[] => {
    if (q.type === "SRV" && q.name === NAME) {
      return state.zone.srv.map((s) => ({ type: "SRV", name: NAME, ttl: 30, data: { priority: s.priority ?? 10, ...s } }));
    }
    return q.type === "A" || q.type === "AAAA" ? addressRecords(q.name, q.type) : [];
  };
  const glue = () => [...new Set(state.zone.srv.map((s) => s.target))].flatMap((name) => addressRecords(name));

  const udp = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(socket, bytes, port, address) {
        const answer = reply(dnsPacket.decode(bytes), false);
        if (answer) socket.send(answer, port, address);
      },
    },
  });
  const tcp = listenTcpOn(udp.port, (bytes) => reply(dnsPacket.decode(bytes.subarray(2)), true));
  if (!tcp) {
    // The port the system gave the UDP socket is taken for TCP (other tests run beside this one): try another.
    udp.close();
    return srvServer(zone);
  }
  servers.push({ close: () => (udp.close(), tcp.stop(true)) });
  return Object.assign(state, { port: udp.port });
}

/** A TCP listener answering DNS-over-TCP on `port`, or undefined when that port is taken. */
function listenTcpOn(port: number, reply: (bytes: Buffer) => Uint8Array | undefined) {
  try {
    return Bun.listen({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(socket, bytes) {
          const answer = reply(bytes);
          if (!answer) return;
          const framed = new Uint8Array(answer.length + 2);
          new DataView(framed.buffer).setUint16(0, answer.length);
          framed.set(answer, 2);
          socket.write(framed);
        },
      },
    });
  } catch (err) {
    if ((err as { code?: string }).code === "EADDRINUSE") return undefined;
    throw err;
  }
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const TWO_BACKENDS: Zone = {
  srv: [
    { target: "a.lb.test", port: 8080, weight: 30 },
    { target: "b.lb.test", port: 8081, weight: 10 },
  ],
  addresses: { "a.lb.test": ["127.0.0.10"], "b.lb.test": ["127.0.0.11", "::1"] },
  glue: true,
};

function recordingLog() {
  const lines: { level: string; msg: string; error?: string; names?: string[] }[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const show = (targets: readonly LbTarget[]) => targets.map((t) => `${t.address}:${t.port}/${t.weight}`);

function srvConfig(port: number, overrides: Partial<SrvSourceConfig> = {}): SrvSourceConfig {
  return { kind: "srv", lookup_server: { host: "127.0.0.1", port }, pattern: NAME, interval: 10_000, timeout: 1_000, failpolicy: "keeplast", ...overrides };
}

/** A running source on a manual clock and what it offered and logged. */
function startSource(config: SrvSourceConfig) {
  const clock = new ManualClock();
  const { log, lines } = recordingLog();
  const source = new SrvSource(config, { clock, log });
  const offers: string[][] = [];
  source.start((targets) => offers.push(show(targets)));
  sources.push(source);
  return { clock, lines, offers, source };
}
const sources: SrvSource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.stop();
});

describe("srv lookup", () => {
  test("targets from the SRV records with their weights, addresses from the additional section", async () => {
    const server = await srvServer(TWO_BACKENDS);
    const result = await lookupSrv({ host: "127.0.0.1", port: server.port }, NAME, AbortSignal.timeout(2000));
    expect(show(result.targets)).toEqual(["127.0.0.10:8080/30", "127.0.0.11:8081/10", "::1:8081/10"]);
    expect(result.unresolved).toEqual([]);
    expect(server.asked).toEqual([`udp SRV ${NAME}`]);
  });

  test("without glue, each target name is asked for A and AAAA at the same server; a name with no address is reported", async () => {
    const server = await srvServer({ ...TWO_BACKENDS, srv: [...TWO_BACKENDS.srv, { target: "gone.lb.test", port: 9, weight: 5 }], glue: false });
    const result = await lookupSrv({ host: "127.0.0.1", port: server.port }, NAME, AbortSignal.timeout(2000));
    expect(show(result.targets)).toEqual(["127.0.0.10:8080/30", "127.0.0.11:8081/10", "::1:8081/10"]);
    expect(result.unresolved).toEqual(["gone.lb.test"]);
    expect(server.asked.toSorted()).toEqual(
      [`udp SRV ${NAME}`, ...["a", "b", "gone"].flatMap((n) => [`udp A ${n}.lb.test`, `udp AAAA ${n}.lb.test`])].toSorted(),
    );
  });

  test("a truncated UDP reply is asked again over TCP", async () => {
    const server = await srvServer(TWO_BACKENDS);
    server.behaviour = "truncate";
    const result = await lookupSrv({ host: "127.0.0.1", port: server.port }, NAME, AbortSignal.timeout(2000));
    expect(result.targets).toHaveLength(3);
    expect(server.asked).toEqual([`udp SRV ${NAME}`, `tcp SRV ${NAME}`]);
  });

  test("all weights 0 share equally; a target of \".\" offers nothing", async () => {
    const server = await srvServer({
      srv: [
        { target: "a.lb.test", port: 1, weight: 0 },
        { target: "b.lb.test", port: 2, weight: 0 },
        { target: ".", port: 3, weight: 0 },
      ],
      addresses: { "a.lb.test": ["127.0.0.1"], "b.lb.test": ["127.0.0.2"] },
      glue: true,
    });
    const result = await lookupSrv({ host: "127.0.0.1", port: server.port }, NAME, AbortSignal.timeout(2000));
    expect(show(result.targets)).toEqual(["127.0.0.1:1/1", "127.0.0.2:2/1"]);
  });

  test("NXDOMAIN fails the lookup; NOERROR without records is an empty list", async () => {
    const server = await srvServer({ srv: [], addresses: {}, glue: true });
    const at = { host: "127.0.0.1", port: server.port };
    expect(show((await lookupSrv(at, NAME, AbortSignal.timeout(2000))).targets)).toEqual([]);
    server.behaviour = "nxdomain";
    await expect(lookupSrv(at, NAME, AbortSignal.timeout(2000))).rejects.toThrow(`SRV ${NAME} at 127.0.0.1:${server.port}: NXDOMAIN`);
  });

  test("a server that is not listening fails at once (ICMP port unreachable)", async () => {
    const closed = await Bun.udpSocket({ hostname: "127.0.0.1" });
    const port = closed.port;
    closed.close();
    await expect(lookupSrv({ host: "127.0.0.1", port }, NAME, AbortSignal.timeout(5000))).rejects.toThrow(`127.0.0.1:${port}: port unreachable`);
  });

  test("a reply that does not decode fails at once, naming the server", async () => {
    const server = await srvServer(TWO_BACKENDS);
    server.behaviour = "malformed";
    const started = Date.now();
    await expect(lookupSrv({ host: "127.0.0.1", port: server.port }, NAME, AbortSignal.timeout(5000))).rejects.toThrow(
      `malformed reply from 127.0.0.1:${server.port}`,
    );
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe("srv source", () => {
  test("offers the discovered targets, looks again every interval, and offers only a changed list", async () => {
    const server = await srvServer(structuredClone(TWO_BACKENDS));
    const { clock, offers } = startSource(srvConfig(server.port));
    await waitFor("the first list", () => offers.length === 1);
    expect(offers[0]).toEqual(["127.0.0.10:8080/30", "127.0.0.11:8081/10", "::1:8081/10"]);

    clock.advance(10_000);
    await waitFor("the second lookup", () => server.asked.length === 2);
    server.zone.srv[1]!.weight = 20;
    server.zone.srv.push({ target: "c.lb.test", port: 8082, weight: 10 });
    server.zone.addresses["c.lb.test"] = ["127.0.0.12"];
    clock.advance(10_000);
    await waitFor("the changed list", () => offers.length === 2);
    expect(offers[1]).toEqual(["127.0.0.10:8080/30", "127.0.0.11:8081/20", "127.0.0.12:8082/10", "::1:8081/20"]);
    expect(server.asked).toHaveLength(3);
  });

  test("interval 0 looks once", async () => {
    const server = await srvServer(TWO_BACKENDS);
    const { clock, offers } = startSource(srvConfig(server.port, { interval: 0 }));
    await waitFor("the list", () => offers.length === 1);
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(60_000);
    expect(server.asked).toHaveLength(1);
  });

  test("keeplast: a lookup that times out keeps the list; the failure is logged once, the recovery once", async () => {
    const server = await srvServer(TWO_BACKENDS);
    const { clock, offers, lines } = startSource(srvConfig(server.port));
    await waitFor("the first list", () => offers.length === 1);
    server.behaviour = "drop";
    for (const round of [2, 3]) {
      clock.advance(clock.nextTimerDue()! - clock.now());
      await waitFor("the query", () => server.asked.length === round);
      clock.advance(1_000);
      // The next lookup stays on the interval's grid.
      await waitFor("the timeout to take effect", () => clock.nextTimerDue() === clock.now() + 9_000);
    }
    expect(offers).toHaveLength(1);
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toEqual([expect.objectContaining({ msg: "lb srv lookup failed", error: "timeout after 1000 ms", failpolicy: "keeplast", targets: 3 })]);

    server.behaviour = "answer";
    clock.advance(9_000);
    await waitFor("the recovery", () => lines.some((l) => l.msg === "lb srv lookup recovered"));
    expect(offers).toHaveLength(1);
  });

  test("setempty: a failed lookup empties the list until one succeeds", async () => {
    const server = await srvServer(TWO_BACKENDS);
    const { clock, offers, lines } = startSource(srvConfig(server.port, { failpolicy: "setempty" }));
    await waitFor("the first list", () => offers.length === 1);
    server.behaviour = "malformed";
    clock.advance(10_000);
    await waitFor("the empty list", () => offers.length === 2);
    expect(offers[1]).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ level: "warn", msg: "lb srv lookup failed", failpolicy: "setempty", targets: 0 });
    expect(lines.at(-1)!.error).toStartWith("malformed reply from 127.0.0.1:");
    server.behaviour = "answer";
    clock.advance(10_000);
    await waitFor("the list again", () => offers.length === 3);
    expect(offers[2]).toEqual(offers[0]!);
  });

  test("setempty: a timeout empties the list", async () => {
    const server = await srvServer(TWO_BACKENDS);
    const { clock, offers } = startSource(srvConfig(server.port, { failpolicy: "setempty" }));
    await waitFor("the first list", () => offers.length === 1);
    server.behaviour = "drop";
    clock.advance(10_000);
    await waitFor("the query", () => server.asked.length === 2);
    expect(offers).toHaveLength(1);
    clock.advance(1_000);
    await waitFor("the empty list", () => offers.length === 2);
    expect(offers[1]).toEqual([]);
  });

  test("a target name without addresses is logged once, not on every lookup", async () => {
    const server = await srvServer({ ...structuredClone(TWO_BACKENDS), glue: false });
    server.zone.srv.push({ target: "gone.lb.test", port: 9, weight: 1 });
    const { clock, lines, offers } = startSource(srvConfig(server.port));
    await waitFor("the first list", () => offers.length === 1);
    for (const _ of [1, 2]) {
      const asked = server.asked.length;
      clock.advance(10_000);
      await waitFor("the next lookup", () => server.asked.length === asked + 7 && clock.pendingTimers() === 1);
    }
    expect(lines.filter((l) => l.level === "warn")).toEqual([expect.objectContaining({ msg: "lb srv targets without addresses", names: ["gone.lb.test"] })]);
  });

  test("stop ends a lookup in flight and offers nothing more", async () => {
    const server = await srvServer(TWO_BACKENDS);
    server.behaviour = "drop";
    const { clock, offers, source } = startSource(srvConfig(server.port, { failpolicy: "setempty" }));
    await waitFor("the query", () => server.asked.length === 1);
    source.stop();
    expect(clock.pendingTimers()).toBe(0);
    server.behaviour = "answer";
    clock.advance(60_000);
    expect(server.asked).toHaveLength(1);
    expect(offers).toEqual([]);
  });
});
