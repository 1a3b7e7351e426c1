// The answer path in process: policies, when_all_down, ECS scope, cache invalidation, bad packets.

import { describe, expect, test } from "bun:test";
import * as dnsPacket from "dns-packet";
import { parseConfig } from "../../../src/config/load.ts";
import { buildEngine } from "../../../src/dns/server/engine.ts";
import { DnsPipeline } from "../../../src/dns/server/pipeline.ts";
import { HealthBoard } from "../../../src/health/board.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { rcodeOf } from "../../helpers/raw-dns.ts";

const BASE = `
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [gslb.test]
  nameservers: [{ name: ns1.gslb.test, addresses: [127.0.0.1] }]
data_dir: /tmp/unused
geo:
  regions:
    - { name: us-east, networks: [10.1.0.0/16, 10.1.200.0/24], location: { lat: 39, lon: -77 } }
    - { name: us-west, networks: [10.2.0.0/16], location: { lat: 37, lon: -122 } }
    - { name: eu-west, networks: [10.3.0.0/16, "2001:db8:3::/48"], location: { lat: 53, lon: -6 } }
    - { name: eu-far, networks: [10.1.200.0/25], location: { lat: 60, lon: 25 } }
`;

function setup(servicesYaml: string, random: () => number = Math.random, base = BASE) {
  const config = parseConfig(base + "services:\n" + servicesYaml);
  const board = new HealthBoard(new ManualClock());
  board.setServices(config.services);
  const pipeline = new DnsPipeline(buildEngine(config, () => 1), board, { random });
  return { config, board, pipeline };
}

interface AskOptions {
  type?: dnsPacket.RecordType;
  subnet?: string;
  dnssecOk?: boolean;
  from?: string;
}

function ask(pipeline: DnsPipeline, name: string, opts: AskOptions = {}): dnsPacket.Packet {
  const additionals: dnsPacket.Answer[] = [];
  if (opts.subnet !== undefined || opts.dnssecOk) {
    const options = opts.subnet ? [{ code: "CLIENT_SUBNET", ip: opts.subnet.split("/")[0], sourcePrefixLength: Number(opts.subnet.split("/")[1]) }] : [];
    additionals.push({ type: "OPT", name: ".", udpPayloadSize: 1232, flags: opts.dnssecOk ? dnsPacket.DNSSEC_OK : 0, options } as never);
  }
  const query = dnsPacket.encode({ type: "query", id: 7, flags: 0, questions: [{ name, type: opts.type ?? "A", class: "IN" }], additionals });
  const reply = pipeline.handle(new Uint8Array(query), opts.from ?? "127.0.0.1", "udp");
  if (!reply) throw new Error("no reply");
  return dnsPacket.decode(Buffer.from(reply));
}

const addresses = (p: dnsPacket.Packet) => (p.answers ?? []).filter((a) => a.type === "A" || a.type === "AAAA").map((a) => (a as { data: string }).data);
const scopeOf = (p: dnsPacket.Packet) => {
  const opt = p.additionals?.find((a) => a.type === "OPT") as { options?: { code: number; scopePrefixLength?: number }[] } | undefined;
  return opt?.options?.find((o) => o.code === 8)?.scopePrefixLength;
};

/** A seeded PRNG so distribution tests are repeatable. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("roundrobin", () => {
  test("rotates the healthy set: every backend leads in turn", () => {
    const { pipeline } = setup(`
  - name: rr
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }, { address: 192.0.2.3 }]`);
    const leaders = Array.from({ length: 6 }, () => addresses(ask(pipeline, "rr.gslb.test"))[0]);
    expect(leaders).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1", "192.0.2.2", "192.0.2.3"]);
  });

  test("a backend reported down leaves the answer at once; back up, it returns", () => {
    const { pipeline, board } = setup(`
  - name: rr
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]`);
    expect(addresses(ask(pipeline, "rr.gslb.test")).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    board.report("rr.gslb.test", "192.0.2.2", 80, "down", "test");
    expect(addresses(ask(pipeline, "rr.gslb.test"))).toEqual(["192.0.2.1"]);
    board.report("rr.gslb.test", "192.0.2.2", 80, "up", "test");
    expect(addresses(ask(pipeline, "rr.gslb.test")).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  test("max_answers bounds the answer", () => {
    const { pipeline } = setup(`
  - name: rr
    max_answers: 2
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }, { address: 192.0.2.3 }]`);
    expect(addresses(ask(pipeline, "rr.gslb.test")).length).toBe(2);
  });
});

describe("weighted", () => {
  test("picks in proportion to weight (3:1 within 5 %)", () => {
    const { pipeline } = setup(
      `
  - name: w
    policy: weighted
    max_answers: 1
    backends: [{ address: 192.0.2.1, weight: 300 }, { address: 192.0.2.2, weight: 100 }]`,
      mulberry32(42),
    );
    let heavy = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (addresses(ask(pipeline, "w.gslb.test"))[0] === "192.0.2.1") heavy++;
    expect(heavy / n).toBeGreaterThan(0.7);
    expect(heavy / n).toBeLessThan(0.8);
  });

  test("weight 0 is never chosen while others have weight", () => {
    const { pipeline } = setup(`
  - name: w
    policy: weighted
    max_answers: 1
    backends: [{ address: 192.0.2.1, weight: 0 }, { address: 192.0.2.2, weight: 5 }]`);
    for (let i = 0; i < 200; i++) expect(addresses(ask(pipeline, "w.gslb.test"))).toEqual(["192.0.2.2"]);
  });
});

describe("failover", () => {
  test("answers the best tier with a healthy member, then the next", () => {
    const { pipeline, board } = setup(`
  - name: fo
    policy: failover
    backends:
      - { address: 192.0.2.1, priority: 1 }
      - { address: 192.0.2.2, priority: 1 }
      - { address: 192.0.2.3, priority: 2 }`);
    expect(addresses(ask(pipeline, "fo.gslb.test")).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    board.report("fo.gslb.test", "192.0.2.1", 80, "down", "test");
    expect(addresses(ask(pipeline, "fo.gslb.test"))).toEqual(["192.0.2.2"]);
    board.report("fo.gslb.test", "192.0.2.2", 80, "down", "test");
    expect(addresses(ask(pipeline, "fo.gslb.test"))).toEqual(["192.0.2.3"]);
  });
});

describe("geo", () => {
  const GEO = `
  - name: geo
    policy: geo
    backends:
      - { address: 192.0.2.1, region: us-east }
      - { address: 192.0.2.2, region: us-west }
      - { address: 192.0.2.3, region: eu-west }
      - { address: 192.0.2.4, region: eu-far }`;

  test("ECS picks the client's region and echoes the prefix that decided it as scope", () => {
    const { pipeline } = setup(GEO);
    const east = ask(pipeline, "geo.gslb.test", { subnet: "10.1.5.0/24" });
    expect(addresses(east)).toEqual(["192.0.2.1"]);
    // 10.1.0.0/16 decided, but 10.1.200.0/25 (eu-far) sits inside it: the scope stops short of it.
    expect(scopeOf(east)).toBe(17);
    const clear = ask(pipeline, "geo.gslb.test", { subnet: "10.2.5.0/24" });
    expect(addresses(clear)).toEqual(["192.0.2.2"]);
    expect(scopeOf(clear)).toBe(16);
    expect(addresses(ask(pipeline, "geo.gslb.test", { subnet: "10.3.0.0/24" }))).toEqual(["192.0.2.3"]);
  });

  test("a more specific rule inside the matched block widens the scope to it", () => {
    const { pipeline } = setup(GEO);
    // 10.1.200.0/24 (us-east) holds 10.1.200.0/25 (eu-far): a /24 answer would be wrong for half of it.
    const r = ask(pipeline, "geo.gslb.test", { subnet: "10.1.200.128/26" });
    expect(addresses(r)).toEqual(["192.0.2.1"]);
    expect(scopeOf(r)).toBe(25);
    expect(addresses(ask(pipeline, "geo.gslb.test", { subnet: "10.1.200.0/25" }))).toEqual(["192.0.2.4"]);
  });

  test("without ECS the resolver's address decides, and IPv6 subnets work", () => {
    const { pipeline } = setup(GEO);
    expect(addresses(ask(pipeline, "geo.gslb.test", { from: "10.2.9.9" }))).toEqual(["192.0.2.2"]);
    expect(addresses(ask(pipeline, "geo.gslb.test", { subnet: "2001:db8:3::/56" }))).toEqual(["192.0.2.3"]);
  });

  test("a region with nothing healthy falls to the nearest region that has something", () => {
    const { pipeline, board } = setup(GEO);
    board.report("geo.gslb.test", "192.0.2.1", 80, "down", "test");
    // From us-east (39N 77W), us-west (37N 122W) is nearer than eu-west (53N 6W).
    expect(addresses(ask(pipeline, "geo.gslb.test", { subnet: "10.1.5.0/24" }))).toEqual(["192.0.2.2"]);
  });

  test("an unknown client gets every healthy backend", () => {
    const { pipeline } = setup(GEO);
    expect(addresses(ask(pipeline, "geo.gslb.test", { subnet: "203.0.113.0/24" })).sort()).toEqual([
      "192.0.2.1",
      "192.0.2.2",
      "192.0.2.3",
      "192.0.2.4",
    ]);
  });
});

describe("when_all_down", () => {
  const service = (mode: string, extra = "") => `
  - name: s
    when_all_down: ${mode}
${extra}    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]`;

  function allDown(board: HealthBoard) {
    board.report("s.gslb.test", "192.0.2.1", 80, "down", "test");
    board.report("s.gslb.test", "192.0.2.2", 80, "down", "test");
  }

  test("fail_open serves every backend", () => {
    const { pipeline, board } = setup(service("fail_open"));
    allDown(board);
    expect(addresses(ask(pipeline, "s.gslb.test")).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  test("fail_closed answers NODATA with the SOA", () => {
    const { pipeline, board } = setup(service("fail_closed"));
    allDown(board);
    const r = ask(pipeline, "s.gslb.test");
    expect(rcodeOf(r)).toBe("NOERROR");
    expect(r.answers).toEqual([]);
    expect(r.authorities?.[0]?.type).toBe("SOA");
  });

  test("last_known_good serves the set that was up last", () => {
    const { pipeline, board } = setup(service("last_known_good"));
    board.report("s.gslb.test", "192.0.2.2", 80, "down", "test");
    board.report("s.gslb.test", "192.0.2.1", 80, "down", "test");
    expect(addresses(ask(pipeline, "s.gslb.test"))).toEqual(["192.0.2.1"]);
  });

  test("fallback answers the fallback addresses", () => {
    const { pipeline, board } = setup(service("fallback", "    fallback: [198.51.100.9]\n"));
    allDown(board);
    expect(addresses(ask(pipeline, "s.gslb.test"))).toEqual(["198.51.100.9"]);
  });
});

describe("response cache", () => {
  test("a repeated query is a hit; the ID and the question's case are the asker's own", () => {
    const { pipeline } = setup(`
  - name: one
    backends: [{ address: 192.0.2.1 }]`);
    ask(pipeline, "one.gslb.test");
    const hitsBefore = pipeline.cache.hits;
    const query = dnsPacket.encode({ type: "query", id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: "ONE.gslb.TEST", type: "A", class: "IN" }] });
    const reply = dnsPacket.decode(Buffer.from(pipeline.handle(new Uint8Array(query), "127.0.0.1", "udp")!));
    expect(pipeline.cache.hits).toBe(hitsBefore + 1);
    expect(reply.id).toBe(4242);
    expect(reply.questions?.[0]?.name).toBe("ONE.gslb.TEST");
    expect(reply.flag_rd).toBe(true);
  });

  test("a health change invalidates cached answers", () => {
    const { pipeline, board } = setup(`
  - name: two
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]`);
    ask(pipeline, "two.gslb.test");
    board.report("two.gslb.test", "192.0.2.1", 80, "down", "test");
    for (let i = 0; i < 3; i++) expect(addresses(ask(pipeline, "two.gslb.test"))).toEqual(["192.0.2.2"]);
  });

  test("stays within its bound under a flood of distinct names, and still answers right", () => {
    const small = BASE.replace("  zones: [gslb.test]", "  zones: [gslb.test]\n  response_cache: { max_entries: 500 }");
    const { pipeline } = setup(
      `
  - name: one
    backends: [{ address: 192.0.2.1 }]`,
      Math.random,
      small,
    );
    for (let i = 0; i < 3000; i++) expect(rcodeOf(ask(pipeline, `r${i}.gslb.test`))).toBe("NXDOMAIN");
    expect(pipeline.cache.size).toBe(500);
    expect(addresses(ask(pipeline, "one.gslb.test"))).toEqual(["192.0.2.1"]);
  });
});
