// Property test: whatever arrives, parseQuery returns one of its statuses without throwing, and the
// server's next step (encoding a response, truncating it, reusing it) does not throw either.
// Deterministic: set WIRE_FUZZ_SEED to replay another run; failures name the seed and the packet.

import { describe, expect, test } from "bun:test";
import * as packet from "dns-packet";
import { normalizeName } from "../../../src/lib/dns-name.ts";
import { Rcode, RRType, type RR } from "../../../src/dns/types.ts";
import { encodeEcsOption } from "../../../src/dns/wire/ecs.ts";
import { encodeResponse, patchCachedResponse, truncatedResponse } from "../../../src/dns/wire/encode.ts";
import { parseQuery, queryFromHeader } from "../../../src/dns/wire/parse.ts";
import type { OptRecord, ParsedQuery, ParseResult } from "../../../src/dns/wire/types.ts";
import { buildQuery, bytes, ecsOption, header, option, optRecord, pointersOf, wireName } from "./fixtures.ts";

const SEED = Number(process.env.WIRE_FUZZ_SEED ?? 0x5eed2024);
const CASES = 10_000;
const STATUSES = new Set(["ok", "drop", "formerr", "notimp", "badvers"]);

/** mulberry32: a small seeded PRNG, good enough to spread test cases. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  byte(): number {
    return this.int(256);
  }
  bytes(count: number): number[] {
    return Array.from({ length: count }, () => this.byte());
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

function hex(buf: Uint8Array): string {
  return Buffer.from(buf).toString("hex");
}

/** Runs one packet through the parser and the encoder, throwing a message that replays it. */
function check(buf: Uint8Array, label: string, tally: Map<string, number>): void {
  try {
    const result = parseQuery(buf);
    if (!STATUSES.has(result.status)) throw new Error(`unknown status ${String(result.status)}`);
    tally.set(result.status, (tally.get(result.status) ?? 0) + 1);
    respond(buf, result);
  } catch (error) {
    throw new Error(`${label} failed (WIRE_FUZZ_SEED=${SEED}) on packet ${hex(buf)}: ${String(error)}`);
  }
}

/** What the server would send back, checked the way a client would read it. */
function respond(buf: Uint8Array, result: ParseResult): void {
  if (result.status === "drop") return;
  const query = result.status === "ok" ? result.query : (result.query ?? queryFromHeader(result.id, result.flags));
  if (result.status === "ok" && normalizeName(query.qname) !== query.qname) {
    throw new Error(`qname ${JSON.stringify(query.qname)} is not canonical`);
  }
  const rcode = { ok: Rcode.NOERROR, formerr: Rcode.FORMERR, notimp: Rcode.NOTIMP, badvers: Rcode.BADVERS }[result.status];
  const records = result.status === "ok" ? recordsFor(query.qname) : [];
  const response = encodeResponse({
    queryBytes: buf,
    query,
    rcode: rcode & 0xf,
    authoritative: true,
    answer: records,
    authority: records.slice(0, 1),
    additional: records.slice(1),
    opt: optFor(query, rcode >> 4),
  });
  for (const [at, target] of pointersOf(response)) {
    if (target >= at || target < 12) throw new Error(`pointer at ${at} to ${target}`);
  }
  const decoded = packet.decode(Buffer.from(response));
  if ((decoded.answers ?? []).length !== records.length) throw new Error("answer count differs");
  truncatedResponse(response);
  patchCachedResponse(response, buf, query);
}

function recordsFor(qname: string): RR[] {
  return [
    { name: qname, type: RRType.A, ttl: 60, rdata: { kind: "bytes", bytes: Uint8Array.from([192, 0, 2, 1]) } },
    { name: qname, type: RRType.CNAME, ttl: 60, rdata: { kind: "name", target: "target.example" } },
    { name: qname, type: RRType.MX, ttl: 60, rdata: { kind: "mx", preference: 5, exchange: qname } },
    {
      name: "example",
      type: RRType.SOA,
      ttl: 60,
      rdata: { kind: "soa", mname: qname, rname: "hostmaster.example", serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
    },
    { name: qname, type: RRType.SRV, ttl: 60, rdata: { kind: "srv", priority: 1, weight: 2, port: 3, target: qname } },
  ];
}

function optFor(query: ParsedQuery, extendedRcode: number): OptRecord | undefined {
  if (query.edns === undefined) return undefined;
  const subnet = query.edns.clientSubnet;
  return {
    udpSize: 1232,
    extendedRcode,
    version: 0,
    dnssecOk: query.edns.dnssecOk,
    options: subnet === undefined ? [] : [encodeEcsOption(subnet, subnet.sourcePrefix)],
  };
}

/** A label of random length whose bytes lean towards letters of either case, with the odd byte thrown in. */
function randomLabel(random: Random): number[] {
  const length = 1 + random.int(random.int(8) === 0 ? 63 : 12);
  return Array.from({ length }, () =>
    random.int(10) === 0 ? random.byte() : random.pick([0x41, 0x61, 0x5a, 0x7a, 0x30, 0x2d, 0x5f]) + random.int(3),
  );
}

function randomName(random: Random): number[] {
  const out: number[] = [];
  const labels = random.int(random.int(10) === 0 ? 8 : 4);
  for (let i = 0; i < labels; i++) {
    const label = randomLabel(random);
    out.push(label.length, ...label);
  }
  out.push(0);
  return out;
}

function randomEcs(random: Random): number[] {
  const family = random.int(8) === 0 ? random.int(4) : 1 + random.int(2);
  const source = random.int(family === 2 ? 140 : 40);
  const addressLength = random.int(6) === 0 ? random.int(20) : Math.ceil(source / 8);
  const scope = random.int(6) === 0 ? random.byte() : 0;
  return option(8, [0, family, source, scope, ...random.bytes(addressLength)]);
}

/** One of three shapes: pure noise, a plausible header over noise, or a well-structured random query. */
function randomPacket(random: Random): Uint8Array {
  switch (random.int(3)) {
    case 0:
      return Uint8Array.from(random.bytes(random.int(300)));
    case 1: {
      const counts = { qd: random.int(3), an: random.int(3), ns: random.int(3), ar: random.int(3) };
      return bytes(header(counts, random.int(0x10000) & 0x7fff), random.bytes(random.int(200)));
    }
    default: {
      const withOpt = random.int(3) > 0;
      const options = withOpt && random.int(2) === 0 ? randomEcs(random) : [];
      const flags = random.pick([0, 0x0100, 0x0110, 0x0010, random.int(0x8000)]);
      return bytes(
        header({ ar: withOpt ? 1 : 0 }, flags, random.int(0x10000)),
        randomName(random),
        [0, random.pick([1, 28, 255, random.byte()]), 0, random.pick([1, 1, 3, 255])],
        withOpt ? optRecord(options, random.int(5000), random.int(10) === 0 ? 1 : 0, random.int(2) === 0) : [],
      );
    }
  }
}

/** Valid queries of every shape the parser knows, to mutate. */
function validQueries(): Uint8Array[] {
  const question = [...wireName("www.example.com"), 0, 1, 0, 1];
  const answerRecord = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
  const tsigLike = [...wireName("key.example"), 0, 250, 0, 255, 0, 0, 0, 0, 0, 3, 1, 2, 3];
  return [
    buildQuery(),
    buildQuery({ name: "A.Very.Long-Name_with.Labels.Example.COM", type: "AAAA" }),
    buildQuery({ edns: { udpSize: 4096, dnssecOk: true } }),
    buildQuery({ edns: { options: [ecsOption("192.0.2.0", 24)] } }),
    buildQuery({ edns: { options: [ecsOption("2001:db8::", 48), { code: 11, timeout: 10 }] } }),
    buildQuery({ edns: { version: 1 } }),
    bytes(header({ an: 1, ns: 1, ar: 2 }), question, answerRecord, answerRecord, optRecord(option(8, [0, 1, 8, 0, 10])), tsigLike),
    bytes(header({}, 4 << 11), question),
  ];
}

function mutate(random: Random, original: Uint8Array): Uint8Array {
  let buf = [...original];
  const rounds = 1 + random.int(3);
  for (let round = 0; round < rounds; round++) {
    const at = random.int(buf.length + 1);
    switch (random.int(5)) {
      case 0:
        if (at < buf.length) buf[at] = buf[at]! ^ (1 << random.int(8));
        break;
      case 1:
        buf = buf.slice(0, at);
        break;
      case 2:
        buf.splice(at, 0, ...random.bytes(1 + random.int(6)));
        break;
      case 3:
        buf.splice(at, 1 + random.int(6));
        break;
      default:
        // Length-like fields: label lengths, counts, RDLENGTH, option lengths.
        if (at < buf.length) buf[at] = random.pick([0, 1, 0x3f, 0x40, 0x80, 0xc0, 0xff, random.byte()]);
        if (at + 1 < buf.length && random.int(2) === 0) buf[at + 1] = random.byte();
    }
  }
  return Uint8Array.from(buf);
}

describe("parseQuery on hostile input", () => {
  test(`${CASES} random packets`, () => {
    const random = new Random(SEED);
    const tally = new Map<string, number>();
    for (let i = 0; i < CASES; i++) check(randomPacket(random), `random packet #${i}`, tally);
    // The generator must reach past the header checks, or the test proves little.
    expect(tally.get("ok") ?? 0).toBeGreaterThan(CASES / 10);
    expect(tally.get("formerr") ?? 0).toBeGreaterThan(CASES / 20);
    expect(tally.get("drop") ?? 0).toBeGreaterThan(0);
  });

  test(`${CASES} mutated valid queries`, () => {
    const random = new Random(SEED ^ 0x9e3779b9);
    const originals = validQueries();
    const tally = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      check(mutate(random, originals[i % originals.length]!), `mutation #${i}`, tally);
    }
    for (const status of STATUSES) expect(tally.get(status) ?? 0).toBeGreaterThan(0);
    expect(tally.get("ok") ?? 0).toBeGreaterThan(CASES / 20);
  });
});
