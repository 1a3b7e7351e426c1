// The response encoder (RFC 1035 §4.1, RFC 6891 §6.1) and the byte-level helpers the server uses on
// finished responses: appending a per-client OPT, truncating, and reusing a cached response.

import { RRClass, RRType, type RR } from "../types.ts";
import { NameCompressor, writeUncompressed } from "./compress.ts";
import {
  ANCOUNT_OFFSET,
  ARCOUNT_OFFSET,
  ECHOED_FLAGS,
  Flag,
  FLAGS_OFFSET,
  HEADER_SIZE,
  ID_OFFSET,
  NSCOUNT_OFFSET,
  QDCOUNT_OFFSET,
  RCODE_MASK,
  readU16,
  writeU16,
  writeU32,
} from "./header.ts";
import { skipName } from "./read-name.ts";
import type { OptRecord, ParsedQuery, ResponseParts } from "./types.ts";

/** The largest DNS message (its length must fit TCP's 16-bit prefix). */
const MAX_MESSAGE = 65535;
/** A record is at most a 255-byte owner, 10 fixed bytes and 65535 bytes of data. */
const MAX_RECORD = 255 + 10 + 65535;
// One scratch for every response: writing starts at most MAX_MESSAGE in, so one record never runs off
// its end, and checking the length after each record is enough.
const scratch = new Uint8Array(MAX_MESSAGE + MAX_RECORD);
const compressor = new NameCompressor();

/** Up to this length a byte loop copies faster than TypedArray.set. */
const SHORT_COPY = 32;

/** OPT's root owner, TYPE, CLASS, TTL, RDLENGTH. */
const OPT_FIXED_PART = 11;

/**
 * Builds a response: header, the question copied from the query as sent (QDCOUNT 0 when
 * query.questionEnd is 12), the three sections with names compressed, and the OPT record last.
 * Throws RangeError when the message would exceed 65535 bytes.
 */
export function encodeResponse(parts: ResponseParts): Uint8Array {
  const { query, queryBytes, opt } = parts;
  const buf = scratch;
  writeU16(buf, ID_OFFSET, query.id);
  writeU16(buf, FLAGS_OFFSET, responseFlags(parts));
  const hasQuestion = query.questionEnd > HEADER_SIZE;
  writeU16(buf, QDCOUNT_OFFSET, hasQuestion ? 1 : 0);
  writeU16(buf, ANCOUNT_OFFSET, parts.answer.length);
  writeU16(buf, NSCOUNT_OFFSET, parts.authority.length);
  writeU16(buf, ARCOUNT_OFFSET, parts.additional.length + (opt === undefined ? 0 : 1));

  compressor.reset();
  let pos = HEADER_SIZE;
  if (hasQuestion) {
    // As sent, so the client's 0x20 letter case comes back; answers then point at it. (A loop: the
    // question is short and subarray would allocate.)
    for (let i = HEADER_SIZE; i < query.questionEnd; i++) buf[i] = queryBytes[i]!;
    compressor.seed(query.qname, HEADER_SIZE);
    pos = query.questionEnd;
  }
  pos = writeRecords(buf, pos, parts.answer);
  pos = writeRecords(buf, pos, parts.authority);
  pos = writeRecords(buf, pos, parts.additional);
  if (opt !== undefined) pos = checkSize(writeOpt(buf, pos, opt));
  return buf.slice(0, pos);
}

function responseFlags(parts: ResponseParts): number {
  let flags = Flag.QR | (parts.query.flags & ECHOED_FLAGS) | (parts.rcode & RCODE_MASK);
  if (parts.authoritative) flags |= Flag.AA;
  if (parts.truncated === true) flags |= Flag.TC;
  return flags;
}

function checkSize(pos: number): number {
  if (pos > MAX_MESSAGE) throw new RangeError(`DNS response would be ${pos} bytes, over ${MAX_MESSAGE}`);
  return pos;
}

function writeRecords(buf: Uint8Array, start: number, records: RR[]): number {
  let pos = start;
  for (let i = 0; i < records.length; i++) pos = checkSize(writeRecord(buf, pos, records[i]!));
  return pos;
}

function writeRecord(buf: Uint8Array, start: number, rr: RR): number {
  let pos = compressor.writeCompressed(buf, start, rr.name);
  writeU16(buf, pos, rr.type);
  writeU16(buf, pos + 2, RRClass.IN);
  writeU32(buf, pos + 4, rr.ttl);
  const lengthAt = pos + 8;
  const dataStart = pos + 10;
  pos = dataStart;
  const rdata = rr.rdata;
  switch (rdata.kind) {
    case "bytes":
      pos = copyBytes(rdata.bytes, buf, pos);
      break;
    case "name":
      pos = compressor.writeCompressed(buf, pos, rdata.target);
      break;
    case "mx":
      writeU16(buf, pos, rdata.preference);
      pos = compressor.writeCompressed(buf, pos + 2, rdata.exchange);
      break;
    case "soa":
      pos = compressor.writeCompressed(buf, pos, rdata.mname);
      pos = compressor.writeCompressed(buf, pos, rdata.rname);
      writeU32(buf, pos, rdata.serial);
      writeU32(buf, pos + 4, rdata.refresh);
      writeU32(buf, pos + 8, rdata.retry);
      writeU32(buf, pos + 12, rdata.expire);
      writeU32(buf, pos + 16, rdata.minimum);
      pos += 20;
      break;
    case "srv":
      writeU16(buf, pos, rdata.priority);
      writeU16(buf, pos + 2, rdata.weight);
      writeU16(buf, pos + 4, rdata.port);
      pos = writeUncompressed(buf, pos + 6, rdata.target);
      break;
  }
  writeU16(buf, lengthAt, pos - dataStart);
  return pos;
}

/** Copies src to buf[pos..]; short arrays (addresses) by a loop, which beats the call into set(). */
function copyBytes(src: Uint8Array, buf: Uint8Array, pos: number): number {
  if (src.length > SHORT_COPY) buf.set(src, pos);
  else for (let i = 0; i < src.length; i++) buf[pos + i] = src[i]!;
  return pos + src.length;
}

/** Writes OPT (RFC 6891 §6.1.2–6.1.3) at buf[pos]; returns the offset after it. */
function writeOpt(buf: Uint8Array, start: number, opt: OptRecord): number {
  buf[start] = 0;
  writeU16(buf, start + 1, RRType.OPT);
  writeU16(buf, start + 3, opt.udpSize);
  buf[start + 5] = opt.extendedRcode;
  buf[start + 6] = opt.version;
  writeU16(buf, start + 7, opt.dnssecOk ? 0x8000 : 0);
  let pos = start + OPT_FIXED_PART;
  for (const option of opt.options) {
    writeU16(buf, pos, option.code);
    writeU16(buf, pos + 2, option.data.length);
    pos = copyBytes(option.data, buf, pos + 4);
  }
  writeU16(buf, start + 9, pos - start - OPT_FIXED_PART);
  return pos;
}

/** Exactly the bytes encodeResponse writes for `opt`, for appendRecord. */
export function encodeOptRecord(opt: OptRecord): Uint8Array {
  let length = OPT_FIXED_PART;
  for (const option of opt.options) length += 4 + option.data.length;
  const record = new Uint8Array(length);
  writeOpt(record, 0, opt);
  return record;
}

/**
 * A copy of `response` with `record` added at the end of the additional section (ARCOUNT + 1): how a
 * cached response, stored without OPT, gets the OPT built for this client.
 */
export function appendRecord(response: Uint8Array, record: Uint8Array): Uint8Array {
  const out = new Uint8Array(response.length + record.length);
  out.set(response);
  out.set(record, response.length);
  writeU16(out, ARCOUNT_OFFSET, readU16(out, ARCOUNT_OFFSET) + 1);
  return out;
}

/**
 * The TC=1 form of a response too large for the client (RFC 1035 §4.1.1, RFC 2181 §9): the same header
 * (id, flags, rcode) with TC set, the question, and of the records only the OPT, if the response has
 * one, so the client still sees our EDNS size, DO and extended rcode. The client retries over TCP.
 */
export function truncatedResponse(response: Uint8Array): Uint8Array {
  const questionEnd = endOfQuestions(response);
  const opt = findOpt(response, questionEnd);
  const optLength = opt === null ? 0 : opt.end - opt.start;
  const out = new Uint8Array(questionEnd + optLength);
  out.set(response.subarray(0, questionEnd));
  if (opt !== null) out.set(response.subarray(opt.start, opt.end), questionEnd);
  writeU16(out, FLAGS_OFFSET, readU16(out, FLAGS_OFFSET) | Flag.TC);
  writeU16(out, ANCOUNT_OFFSET, 0);
  writeU16(out, NSCOUNT_OFFSET, 0);
  writeU16(out, ARCOUNT_OFFSET, opt === null ? 0 : 1);
  return out;
}

function endOfQuestions(message: Uint8Array): number {
  let pos = HEADER_SIZE;
  const count = readU16(message, QDCOUNT_OFFSET);
  for (let i = 0; i < count; i++) pos = skipName(message, pos) + 4;
  return pos;
}

/** Where the OPT record lies among the records after `start`; null if there is none. */
function findOpt(message: Uint8Array, start: number): { start: number; end: number } | null {
  const count =
    readU16(message, ANCOUNT_OFFSET) + readU16(message, NSCOUNT_OFFSET) + readU16(message, ARCOUNT_OFFSET);
  let pos = start;
  for (let i = 0; i < count; i++) {
    const nameEnd = skipName(message, pos);
    const end = nameEnd + 10 + readU16(message, nameEnd + 8);
    if (readU16(message, nameEnd) === RRType.OPT) return { start: pos, end };
    pos = end;
  }
  return null;
}

/**
 * A cached response made fit for another query with the same qname, qtype and DO: this query's id,
 * RD and CD bits, and question bytes (its 0x20 case). Returns a copy; the cached bytes stay as they are.
 */
export function patchCachedResponse(cached: Uint8Array, queryBytes: Uint8Array, query: ParsedQuery): Uint8Array {
  const out = cached.slice();
  const perQueryBits = Flag.RD | Flag.CD;
  writeU16(out, ID_OFFSET, query.id);
  writeU16(out, FLAGS_OFFSET, (readU16(out, FLAGS_OFFSET) & ~perQueryBits) | (query.flags & perQueryBits));
  for (let i = HEADER_SIZE; i < query.questionEnd; i++) out[i] = queryBytes[i]!;
  return out;
}
