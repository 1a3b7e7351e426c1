// Shared builders for the wire tests: queries built with dns-packet (an independent encoder) and
// hand-assembled bytes for what dns-packet refuses to produce.

import * as packet from "dns-packet";
import { expect } from "bun:test";
import { parseQuery } from "../../../src/dns/wire/parse.ts";
import type { ParsedQuery, ParseResult } from "../../../src/dns/wire/types.ts";

export interface QueryOptions {
  name?: string;
  type?: packet.RecordType;
  id?: number;
  flags?: number;
  /** Adds an OPT record. */
  edns?: { udpSize?: number; dnssecOk?: boolean; version?: number; options?: packet.PacketOpt[] };
}

export function buildQuery(options: QueryOptions = {}): Uint8Array {
  const additionals: packet.Answer[] = [];
  if (options.edns !== undefined) {
    const edns = options.edns;
    additionals.push({
      type: "OPT",
      name: ".",
      udpPayloadSize: edns.udpSize ?? 1232,
      extendedRcode: 0,
      ednsVersion: edns.version ?? 0,
      flags: edns.dnssecOk === true ? packet.DNSSEC_OK : 0,
      flag_do: edns.dnssecOk === true,
      options: edns.options ?? [],
    });
  }
  const bytes = packet.encode({
    type: "query",
    id: options.id ?? 0x1234,
    flags: options.flags ?? packet.RECURSION_DESIRED,
    questions: [{ name: options.name ?? "www.example.com", type: options.type ?? "A" }],
    additionals,
  });
  return new Uint8Array(bytes);
}

export function ecsOption(ip: string, sourcePrefixLength: number, scopePrefixLength = 0): packet.PacketOpt {
  return { code: 8, ip, sourcePrefixLength, scopePrefixLength };
}

export function expectOk(buf: Uint8Array): ParsedQuery {
  const result = parseQuery(buf);
  if (result.status !== "ok") throw new Error(`expected ok, got ${result.status}`);
  return result.query;
}

export function expectStatus(buf: Uint8Array, status: ParseResult["status"]): void {
  expect(parseQuery(buf).status).toBe(status);
}

/** A header with the given counts; flags default to a plain query. */
export function header(counts: { qd?: number; an?: number; ns?: number; ar?: number }, flags = 0, id = 0xbeef): number[] {
  const u16 = (v: number) => [v >> 8, v & 0xff];
  return [...u16(id), ...u16(flags), ...u16(counts.qd ?? 1), ...u16(counts.an ?? 0), ...u16(counts.ns ?? 0), ...u16(counts.ar ?? 0)];
}

/** Uncompressed wire form of a dotted name ("" is the root). */
export function wireName(name: string): number[] {
  const out: number[] = [];
  if (name !== "") for (const label of name.split(".")) out.push(label.length, ...Buffer.from(label, "latin1"));
  out.push(0);
  return out;
}

/** QTYPE A, QCLASS IN. */
export const TYPE_A_CLASS_IN = [0, 1, 0, 1];

/** An OPT record with root owner and the given option bytes (each already framed). */
export function optRecord(options: number[] = [], udpSize = 1232, version = 0, doBit = false): number[] {
  return [0, 0, 41, udpSize >> 8, udpSize & 0xff, 0, version, doBit ? 0x80 : 0, 0, options.length >> 8, options.length & 0xff, ...options];
}

/** One option: code, length, data. */
export function option(code: number, data: number[]): number[] {
  return [code >> 8, code & 0xff, data.length >> 8, data.length & 0xff, ...data];
}

export function bytes(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

/** Types whose rdata starts with compressible names, and how many (RFC 1035 §3.3), after a fixed prefix. */
const NAMES_IN_RDATA: Record<number, { skip: number; names: number }> = {
  2: { skip: 0, names: 1 },
  5: { skip: 0, names: 1 },
  6: { skip: 0, names: 2 },
  12: { skip: 0, names: 1 },
  15: { skip: 2, names: 1 },
};

/**
 * Every compression pointer in a response's question and records, as [where it sits, where it points],
 * found by walking the message independently of the code under test.
 */
export function pointersOf(message: Uint8Array): [number, number][] {
  const pointers: [number, number][] = [];
  const u16 = (at: number) => (message[at]! << 8) | message[at + 1]!;
  const walkName = (start: number): number => {
    let pos = start;
    while (message[pos] !== 0) {
      if ((message[pos]! & 0xc0) === 0xc0) {
        pointers.push([pos, u16(pos) & 0x3fff]);
        return pos + 2;
      }
      pos += message[pos]! + 1;
    }
    return pos + 1;
  };
  let pos = 12;
  for (let i = 0; i < u16(4); i++) pos = walkName(pos) + 4;
  const records = u16(6) + u16(8) + u16(10);
  for (let i = 0; i < records; i++) {
    const typeAt = walkName(pos);
    const dataStart = typeAt + 10;
    const layout = NAMES_IN_RDATA[u16(typeAt)];
    if (layout !== undefined) {
      let at = dataStart + layout.skip;
      for (let n = 0; n < layout.names; n++) at = walkName(at);
    }
    pos = dataStart + u16(typeAt + 8);
  }
  return pointers;
}
