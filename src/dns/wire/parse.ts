// The query parser: bytes from a socket → ParsedQuery or the reason not to answer normally
// (RFC 1035 §4.1, RFC 6891 §6–7, RFC 7871 §7.1.1). Hot path: no exceptions, no regex, few allocations.

import { EdnsOption, RRType } from "../types.ts";
import { readClientSubnet } from "./ecs.ts";
import {
  ANCOUNT_OFFSET,
  ARCOUNT_OFFSET,
  Flag,
  FLAGS_OFFSET,
  HEADER_SIZE,
  ID_OFFSET,
  NSCOUNT_OFFSET,
  opcodeOf,
  QDCOUNT_OFFSET,
  readU16,
} from "./header.ts";
import { readName, skipName } from "./read-name.ts";
import type { ClientSubnet, Edns, ParsedQuery, ParseResult } from "./types.ts";

/** TYPE, CLASS, TTL, RDLENGTH. */
const RECORD_FIXED_PART = 10;
/** QTYPE, QCLASS. */
const QUESTION_FIXED_PART = 4;
/** RFC 6891 §6.2.3: smaller advertised sizes count as 512. */
const MIN_UDP_SIZE = 512;
/** OPTION-CODE, OPTION-LENGTH. */
const OPTION_HEADER = 4;

const DROP: ParseResult = Object.freeze({ status: "drop" });

/** Never throws, whatever the bytes. */
export function parseQuery(buf: Uint8Array): ParseResult {
  if (buf.length < HEADER_SIZE) return DROP;
  const flags = readU16(buf, FLAGS_OFFSET);
  if ((flags & Flag.QR) !== 0) return DROP;
  const id = readU16(buf, ID_OFFSET);
  const result = parseMessage(buf, id, flags);
  if (opcodeOf(flags) === 0) return result;
  // Other opcodes are not implemented; still hand back the question when there is one to echo.
  return { status: "notimp", id, flags, query: result.status === "drop" ? undefined : result.query };
}

/**
 * A query carrying only what the header says, for answering a packet whose question could not be
 * read: its questionEnd is the header's end, so the response has QDCOUNT 0.
 */
export function queryFromHeader(id: number, flags: number): ParsedQuery {
  return newQuery(id, flags, "", 0, 0, HEADER_SIZE);
}

function newQuery(id: number, flags: number, qname: string, qtype: number, qclass: number, questionEnd: number): ParsedQuery {
  return {
    id,
    flags,
    opcode: opcodeOf(flags),
    recursionDesired: (flags & Flag.RD) !== 0,
    checkingDisabled: (flags & Flag.CD) !== 0,
    qname,
    qtype,
    qclass,
    questionEnd,
    edns: undefined,
  };
}

function parseMessage(buf: Uint8Array, id: number, flags: number): ParseResult {
  if (readU16(buf, QDCOUNT_OFFSET) !== 1) return { status: "formerr", id, flags };
  const nameEnd = skipName(buf, HEADER_SIZE);
  const questionEnd = nameEnd + QUESTION_FIXED_PART;
  // readName refuses any pointer here (only the header precedes the question), which also keeps the
  // byte-for-byte copy of the question in a response valid.
  const qname = nameEnd < 0 || questionEnd > buf.length ? null : readName(buf, HEADER_SIZE);
  if (qname === null) return { status: "formerr", id, flags };
  const query = newQuery(id, flags, qname, readU16(buf, nameEnd), readU16(buf, nameEnd + 2), questionEnd);

  // Answer and authority records mean nothing in a query; only their framing has to hold.
  let pos = questionEnd;
  const skipped = readU16(buf, ANCOUNT_OFFSET) + readU16(buf, NSCOUNT_OFFSET);
  for (let i = 0; i < skipped; i++) {
    pos = recordEnd(buf, skipName(buf, pos));
    if (pos < 0) return { status: "formerr", id, flags, query };
  }
  return parseAdditional(buf, pos, query);
}

/** The offset after the record whose owner name ends at `nameEnd` (-1: unreadable), or -1 when it runs past the end. */
function recordEnd(buf: Uint8Array, nameEnd: number): number {
  if (nameEnd < 0 || nameEnd + RECORD_FIXED_PART > buf.length) return -1;
  const end = nameEnd + RECORD_FIXED_PART + readU16(buf, nameEnd + 8);
  return end > buf.length ? -1 : end;
}

/** Finds the OPT record (RFC 6891 §6.1.1) among the additional records; the others are only framing-checked. */
function parseAdditional(buf: Uint8Array, start: number, query: ParsedQuery): ParseResult {
  const { id, flags } = query;
  const count = readU16(buf, ARCOUNT_OFFSET);
  let pos = start;
  let sawOpt = false;
  for (let i = 0; i < count; i++) {
    const nameEnd = skipName(buf, pos);
    const end = recordEnd(buf, nameEnd);
    if (end < 0) return { status: "formerr", id, flags, query };
    if (readU16(buf, nameEnd) === RRType.OPT) {
      const rootOwner = nameEnd === pos + 1;
      if (sawOpt || !rootOwner) {
        query.edns = undefined;
        return { status: "formerr", id, flags, query };
      }
      sawOpt = true;
      query.edns = readOptHeader(buf, nameEnd);
      // Options of another EDNS version may be laid out differently, so only version 0's are read.
      if (query.edns.version === 0) {
        const clientSubnet = readOptions(buf, nameEnd + RECORD_FIXED_PART, end);
        if (clientSubnet === null) return { status: "formerr", id, flags, query };
        query.edns.clientSubnet = clientSubnet;
      }
    }
    pos = end;
  }
  if (query.edns !== undefined && query.edns.version !== 0) return { status: "badvers", id, flags, query };
  return { status: "ok", query };
}

/** CLASS holds the UDP payload size; TTL holds extended rcode, version and the DO bit. */
function readOptHeader(buf: Uint8Array, typeAt: number): Edns {
  return {
    udpSize: Math.max(readU16(buf, typeAt + 2), MIN_UDP_SIZE),
    version: buf[typeAt + 5]!,
    dnssecOk: (buf[typeAt + 6]! & 0x80) !== 0,
    clientSubnet: undefined,
  };
}

/**
 * Walks the options in buf[start..end): the client subnet if there is one, undefined if not, null when the
 * framing is broken, ECS is malformed, or ECS appears twice. Unknown options are ignored (RFC 6891 §6.1.2).
 */
function readOptions(buf: Uint8Array, start: number, end: number): ClientSubnet | undefined | null {
  let clientSubnet: ClientSubnet | undefined;
  let pos = start;
  while (pos < end) {
    if (pos + OPTION_HEADER > end) return null;
    const dataStart = pos + OPTION_HEADER;
    const dataEnd = dataStart + readU16(buf, pos + 2);
    if (dataEnd > end) return null;
    if (readU16(buf, pos) === EdnsOption.ECS) {
      if (clientSubnet !== undefined) return null;
      const parsed = readClientSubnet(buf, dataStart, dataEnd);
      if (parsed === null) return null;
      clientSubnet = parsed;
    }
    pos = dataEnd;
  }
  return clientSubnet;
}
