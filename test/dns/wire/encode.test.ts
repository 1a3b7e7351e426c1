import { describe, expect, test } from "bun:test";
import * as packet from "dns-packet";
import { Rcode, RRType, type RR } from "../../../src/dns/types.ts";
import { encodeEcsOption } from "../../../src/dns/wire/ecs.ts";
import {
  appendRecord,
  encodeOptRecord,
  encodeResponse,
  patchCachedResponse,
  truncatedResponse,
} from "../../../src/dns/wire/encode.ts";
import { queryFromHeader } from "../../../src/dns/wire/parse.ts";
import type { OptRecord, ResponseParts } from "../../../src/dns/wire/types.ts";
import { buildQuery, ecsOption, expectOk, pointersOf, wireName } from "./fixtures.ts";

const QNAME_AS_SENT = "WwW.ExAmPlE.CoM";

function bytesRR(name: string, type: number, data: number[], ttl = 60): RR {
  return { name, type, ttl, rdata: { kind: "bytes", bytes: Uint8Array.from(data) } };
}

const answer: RR[] = [
  { name: "www.example.com", type: RRType.CNAME, ttl: 300, rdata: { kind: "name", target: "web.example.com" } },
  bytesRR("web.example.com", RRType.A, [192, 0, 2, 1]),
  bytesRR("web.example.com", RRType.AAAA, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]),
  bytesRR("web.example.com", RRType.TXT, [5, ...Buffer.from("hello"), 2, ...Buffer.from("hi")]),
  { name: "web.example.com", type: RRType.MX, ttl: 60, rdata: { kind: "mx", preference: 10, exchange: "mail.example.com" } },
];
const authority: RR[] = [
  { name: "example.com", type: RRType.NS, ttl: 3600, rdata: { kind: "name", target: "ns1.example.com" } },
  {
    name: "example.com",
    type: RRType.SOA,
    ttl: 3600,
    rdata: {
      kind: "soa",
      mname: "ns1.example.com",
      rname: "hostmaster.example.com",
      serial: 2024010101,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: 300,
    },
  },
];
const additional: RR[] = [
  {
    name: "_sip._tcp.example.com",
    type: RRType.SRV,
    ttl: 60,
    rdata: { kind: "srv", priority: 1, weight: 5, port: 5060, target: "sip.example.org" },
  },
  bytesRR("ns1.example.com", RRType.A, [192, 0, 2, 53]),
];

function partsFor(queryBytes: Uint8Array, overrides: Partial<ResponseParts> = {}): ResponseParts {
  return {
    queryBytes,
    query: expectOk(queryBytes),
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer,
    authority,
    additional,
    ...overrides,
  };
}

function decode(response: Uint8Array): packet.DecodedPacket {
  return packet.decode(Buffer.from(response));
}

function flagsOf(response: Uint8Array): number {
  return (response[2]! << 8) | response[3]!;
}

function arcountOf(response: Uint8Array): number {
  return (response[10]! << 8) | response[11]!;
}

function indexOfBytes(haystack: Uint8Array, needle: number[]): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}

/** Names that point into the question come back in its 0x20 case; compare them without case. */
function caseless(records: packet.Answer[] | undefined): unknown[] {
  const lower = (value: unknown): unknown => {
    if (typeof value === "string") return value.toLowerCase();
    if (value === null || typeof value !== "object" || Buffer.isBuffer(value) || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, lower(field)]));
  };
  return (records ?? []).map((record) => ({
    ...record,
    name: record.name.toLowerCase(),
    data: lower((record as { data?: unknown }).data),
  }));
}

const opt: OptRecord = { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, options: [] };

describe("encodeResponse: records, checked by dns-packet", () => {
  const queryBytes = buildQuery({ name: QNAME_AS_SENT, type: "A", id: 0x4242 });
  const response = encodeResponse(partsFor(queryBytes));
  const decoded = decode(response);

  test("echoes the question byte for byte, 0x20 case included", () => {
    expect([...response.subarray(12, 33)]).toEqual([...queryBytes.subarray(12, 33)]);
    expect(decoded.questions).toEqual([{ name: QNAME_AS_SENT, type: "A", class: "IN" }]);
    expect(decoded.id).toBe(0x4242);
  });

  test("writes every record so an independent decoder reads it back", () => {
    expect(caseless(decoded.answers)).toMatchObject([
      { name: "www.example.com", type: "CNAME", ttl: 300, class: "IN", data: "web.example.com" },
      { name: "web.example.com", type: "A", ttl: 60, data: "192.0.2.1" },
      { name: "web.example.com", type: "AAAA", data: "2001:db8::1" },
      { name: "web.example.com", type: "TXT", data: [Buffer.from("hello"), Buffer.from("hi")] },
      { name: "web.example.com", type: "MX", data: { preference: 10, exchange: "mail.example.com" } },
    ]);
    expect(caseless(decoded.authorities)).toMatchObject([
      { name: "example.com", type: "NS", ttl: 3600, data: "ns1.example.com" },
      {
        name: "example.com",
        type: "SOA",
        data: {
          mname: "ns1.example.com",
          rname: "hostmaster.example.com",
          serial: 2024010101,
          refresh: 7200,
          retry: 900,
          expire: 1209600,
          minimum: 300,
        },
      },
    ]);
    expect(caseless(decoded.additionals)).toMatchObject([
      { name: "_sip._tcp.example.com", type: "SRV", data: { priority: 1, weight: 5, port: 5060, target: "sip.example.org" } },
      { name: "ns1.example.com", type: "A", data: "192.0.2.53" },
    ]);
  });

  test("compresses: the first owner is a pointer to the question, and the message is smaller than uncompressed", () => {
    expect([...response.subarray(33, 35)]).toEqual([0xc0, 12]);
    const uncompressed = packet.encode({ ...decoded, type: "response" });
    expect(response.length).toBeLessThan(uncompressed.length);
    expect(uncompressed.length - response.length).toBeGreaterThan(100);
  });

  test("every pointer points backwards", () => {
    const pointers = pointersOf(response);
    expect(pointers.length).toBeGreaterThan(10);
    for (const [at, target] of pointers) expect(target).toBeLessThan(at);
  });

  test("names answers by the question's case: the first owner decodes as sent", () => {
    expect(decoded.answers?.[0]?.name).toBe(QNAME_AS_SENT);
  });

  test("writes the SRV target in full", () => {
    expect(indexOfBytes(response, wireName("sip.example.org"))).toBeGreaterThan(0);
  });
});

describe("encodeResponse: header", () => {
  test("sets QR and AA, copies opcode, RD and CD, clears RA and AD, writes the rcode", () => {
    const flags = packet.RECURSION_DESIRED | packet.CHECKING_DISABLED | packet.AUTHENTIC_DATA | packet.RECURSION_AVAILABLE;
    const response = encodeResponse(partsFor(buildQuery({ flags }), { rcode: Rcode.NXDOMAIN, answer: [] }));
    expect(flagsOf(response)).toBe(0x8000 | 0x0400 | 0x0100 | 0x0010 | 3);
  });

  test("leaves AA clear for a referral and sets TC when asked", () => {
    const response = encodeResponse(partsFor(buildQuery({ flags: 0 }), { authoritative: false, truncated: true }));
    expect(flagsOf(response)).toBe(0x8000 | 0x0200);
  });

  test("counts the records of each section", () => {
    const response = encodeResponse(partsFor(buildQuery()));
    expect([...response.subarray(4, 12)]).toEqual([0, 1, 0, 5, 0, 2, 0, 2]);
  });

  test("writes QDCOUNT 0 and no question for a query known only by its header", () => {
    const queryBytes = Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0]);
    const response = encodeResponse({
      queryBytes,
      query: queryFromHeader(0x1234, 0x0100),
      rcode: Rcode.FORMERR,
      authoritative: false,
      answer: [],
      authority: [],
      additional: [],
    });
    expect([...response]).toEqual([0x12, 0x34, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("refuses a message over 65535 bytes", () => {
    const big = bytesRR("example.com", RRType.TXT, new Array(40_000).fill(0));
    expect(() => encodeResponse(partsFor(buildQuery(), { answer: [big, big] }))).toThrow(RangeError);
    expect(encodeResponse(partsFor(buildQuery(), { answer: [big] })).length).toBeGreaterThan(40_000);
  });

  test("keeps pointers under 0x4000 in a response longer than 16 KiB", () => {
    const filler = bytesRR("www.example.com", RRType.TXT, new Array(17_000).fill(0));
    const late = bytesRR("late.example.net", RRType.A, [10, 0, 0, 1]);
    const response = encodeResponse(partsFor(buildQuery(), { answer: [filler, late, late], authority: [], additional: [] }));
    expect(decode(response).answers?.map((r) => r.name)).toEqual(["www.example.com", "late.example.net", "late.example.net"]);
    // The first copy sits past 0x3fff, so the second cannot point at it.
    const first = indexOfBytes(response, wireName("late.example.net"));
    expect(first).toBeGreaterThan(0x3fff);
    expect(Buffer.from(response).indexOf(Buffer.from(wireName("late.example.net")), first + 1)).toBeGreaterThan(first);
    for (const [, target] of pointersOf(response)) expect(target).toBeLessThan(0x4000);
  });
});

describe("OPT", () => {
  const queryBytes = buildQuery({ edns: { udpSize: 4096, options: [ecsOption("192.0.2.0", 24)] } });
  const query = expectOk(queryBytes);
  const echo = encodeEcsOption(query.edns!.clientSubnet!, 16);
  const withEcs: OptRecord = { ...opt, options: [echo] };

  test("is the last additional record and counted in ARCOUNT", () => {
    const response = encodeResponse(partsFor(queryBytes, { opt: withEcs }));
    expect(arcountOf(response)).toBe(3);
    const last = decode(response).additionals?.at(-1) as packet.OptAnswer;
    expect(last).toMatchObject({ name: ".", type: "OPT", udpPayloadSize: 1232, ednsVersion: 0, flag_do: true });
    expect(last.options[0]).toMatchObject({ code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 16, ip: "192.0.2.0" });
  });

  test("carries the upper bits of an extended rcode: BADVERS is 1 in OPT, 0 in the header", () => {
    const badvers: OptRecord = { ...opt, extendedRcode: Rcode.BADVERS >> 4, dnssecOk: false };
    const response = encodeResponse(partsFor(queryBytes, { rcode: Rcode.BADVERS & 0xf, answer: [], authority: [], additional: [], opt: badvers }));
    expect(flagsOf(response) & 0xf).toBe(0);
    const written = decode(response).additionals?.[0] as packet.OptAnswer;
    expect(written.extendedRcode).toBe(1);
    expect(written.flag_do).toBe(false);
  });

  test("encodeOptRecord gives exactly the bytes encodeResponse writes", () => {
    const record = encodeOptRecord(withEcs);
    const response = encodeResponse(partsFor(queryBytes, { opt: withEcs }));
    expect([...response.subarray(response.length - record.length)]).toEqual([...record]);
    expect(record.length).toBe(11 + 4 + 7);
  });

  test("appendRecord adds a per-client OPT to a response cached without one", () => {
    const cached = encodeResponse(partsFor(queryBytes));
    const sent = appendRecord(cached, encodeOptRecord(withEcs));
    expect([...sent]).toEqual([...encodeResponse(partsFor(queryBytes, { opt: withEcs }))]);
    expect(arcountOf(cached)).toBe(2);
    expect(arcountOf(sent)).toBe(3);
  });
});

describe("truncatedResponse", () => {
  const queryBytes = buildQuery({ name: QNAME_AS_SENT, edns: { udpSize: 512 } });

  test("keeps header, question and OPT, drops every other record, sets TC", () => {
    const full = encodeResponse(partsFor(queryBytes, { rcode: Rcode.NXDOMAIN, opt }));
    const truncated = truncatedResponse(full);
    expect(flagsOf(truncated)).toBe(flagsOf(full) | 0x0200);
    expect([...truncated.subarray(4, 12)]).toEqual([0, 1, 0, 0, 0, 0, 0, 1]);
    const decoded = decode(truncated);
    expect(decoded.questions?.[0]?.name).toBe(QNAME_AS_SENT);
    expect(decoded.additionals).toMatchObject([{ type: "OPT", udpPayloadSize: 1232, flag_do: true }]);
    expect(truncated.length).toBe(33 + 11);
  });

  test("finds an OPT that appendRecord put after the cached records", () => {
    const full = appendRecord(encodeResponse(partsFor(queryBytes)), encodeOptRecord(opt));
    expect([...truncatedResponse(full)]).toEqual([...truncatedResponse(encodeResponse(partsFor(queryBytes, { opt })))]);
  });

  test("has no additional records when the response had no OPT", () => {
    const truncated = truncatedResponse(encodeResponse(partsFor(buildQuery())));
    expect([...truncated.subarray(4, 12)]).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    expect(truncated.length).toBe(33);
  });
});

describe("patchCachedResponse", () => {
  test("makes a cached response identical to one encoded for the new query", () => {
    const first = buildQuery({ name: "www.example.com", id: 1, flags: packet.RECURSION_DESIRED });
    const second = buildQuery({ name: "WWW.example.COM", id: 2, flags: packet.CHECKING_DISABLED });
    const cached = encodeResponse(partsFor(first, { opt }));
    const before = [...cached];
    const patched = patchCachedResponse(cached, second, expectOk(second));
    expect([...patched]).toEqual([...encodeResponse(partsFor(second, { opt }))]);
    expect([...cached]).toEqual(before);
  });
});
