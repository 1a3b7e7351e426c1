// Zone-file rdata → RData, one small reader per supported type (RFC 1035 §3.3, RFC 2782 SRV,
// RFC 8659 CAA, RFC 4034 §5.3 DS) and the RFC 3597 generic form "\# <length> <hex>" for the rest.

import type { RData } from "../types.ts";
import { RRType } from "../types.ts";
import { parseIpv4, parseIpv6 } from "../../lib/cidr.ts";
import type { RecordFields } from "./fields.ts";
import { RecordSyntaxError } from "./syntax-error.ts";

const MAX_STRING = 255;
/** Types whose data holds names: kept apart from bytes for compression, so no generic form. */
const TYPES_WITH_NAMES = new Set<number>([RRType.NS, RRType.CNAME, RRType.PTR, RRType.MX, RRType.SRV]);
const CAA_TAG = /^[a-z0-9]+$/i;

/** Reads the rdata of one record; `fields` stands at the first rdata token. */
export function parseRdata(type: number, fields: RecordFields): RData {
  const first = fields.peek();
  const rdata = first?.text === "\\#" && !first.quoted ? generic(type, fields) : typed(type, fields);
  fields.end();
  return rdata;
}

function typed(type: number, fields: RecordFields): RData {
  switch (type) {
    case RRType.A:
      return address(fields, "an IPv4 address", parseIpv4);
    case RRType.AAAA:
      return address(fields, "an IPv6 address", parseIpv6);
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      return { kind: "name", target: fields.name("a domain name") };
    case RRType.MX:
      return { kind: "mx", preference: fields.uint("a preference", 0xffff), exchange: fields.name("an exchange name") };
    case RRType.SRV:
      return {
        kind: "srv",
        priority: fields.uint("a priority", 0xffff),
        weight: fields.uint("a weight", 0xffff),
        port: fields.uint("a port", 0xffff),
        target: fields.name("a target name"),
      };
    case RRType.TXT:
      return txt(fields);
    case RRType.CAA:
      return caa(fields);
    case RRType.DS:
      return ds(fields);
    default:
      return fields.reject(fields.next("data"), "data in the generic form \\# <length> <hex>");
  }
}

function address(fields: RecordFields, what: string, parse: (text: string) => Uint8Array | null): RData {
  const token = fields.next(what);
  const bytes = token.quoted ? null : parse(token.text);
  return { kind: "bytes", bytes: bytes ?? fields.reject(token, what) };
}

/** One or more character-strings; longer than 255 bytes are split, as each is length-prefixed. */
function txt(fields: RecordFields): RData {
  const first = fields.next("a string");
  const chunks: number[] = [];
  for (const token of [first, ...fields.rest()]) {
    const bytes = fields.characterString(token, "a string");
    let at = 0;
    do {
      const piece = bytes.subarray(at, at + MAX_STRING);
      chunks.push(piece.length, ...piece);
      at += MAX_STRING;
    } while (at < bytes.length);
  }
  return { kind: "bytes", bytes: Uint8Array.from(chunks) };
}

/** flags tag "value" (RFC 8659 §4.1); the value runs to the end of the rdata, unprefixed. */
function caa(fields: RecordFields): RData {
  const flags = fields.uint("flags", 0xff);
  const tagToken = fields.next("a tag");
  if (tagToken.quoted || !CAA_TAG.test(tagToken.text) || tagToken.text.length > MAX_STRING) {
    fields.reject(tagToken, "a tag of letters and digits");
  }
  const value = fields.characterString(fields.next("a value"), "a value");
  const tag = new TextEncoder().encode(tagToken.text);
  return { kind: "bytes", bytes: Uint8Array.from([flags, tag.length, ...tag, ...value]) };
}

/** key-tag algorithm digest-type digest (RFC 4034 §5.3); the hex digest may be split by spaces. */
function ds(fields: RecordFields): RData {
  const keyTag = fields.uint("a key tag", 0xffff);
  const algorithm = fields.uint("an algorithm", 0xff);
  const digestType = fields.uint("a digest type", 0xff);
  const digest = hexField(fields, "a hex digest", true);
  return { kind: "bytes", bytes: Uint8Array.from([keyTag >> 8, keyTag & 0xff, algorithm, digestType, ...digest]) };
}

/** RFC 3597 §5 "\\# <length> <hex>". */
function generic(type: number, fields: RecordFields): RData {
  const marker = fields.next("\\#");
  if (TYPES_WITH_NAMES.has(type)) fields.reject(marker, "the usual data form", "not the generic form");
  const length = fields.uint("a length", 0xffff);
  const bytes = hexField(fields, "hex data", length > 0);
  const problem = (text: string) => new RecordSyntaxError(marker.line, `${fields.typeLabel} generic data: ${text}`);
  if (bytes.length !== length) throw problem(`\\# says ${length} bytes, the hex has ${bytes.length}`);
  const fixedLength = type === RRType.A ? 4 : type === RRType.AAAA ? 16 : length;
  if (length !== fixedLength) throw problem(`must be ${fixedLength} bytes, got ${length}`);
  return { kind: "bytes", bytes };
}

/** All remaining tokens as one hex string; `required`: at least one token must be there. */
function hexField(fields: RecordFields, what: string, required: boolean): Uint8Array {
  const tokens = required ? [fields.next(what), ...fields.rest()] : fields.rest();
  const hex = tokens.map((t) => t.text).join("");
  if (!/^([0-9a-f]{2})*$/i.test(hex)) fields.reject(tokens[0]!, what);
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}
