// RFC 4034 §6 canonical form: names uncompressed and lower case, rdata in wire form, an RRset's
// records sorted by their rdata bytes with duplicates dropped. What signatures and DS digests cover.

import type { RData, RRset } from "../types.ts";
import { writeUncompressed } from "../wire/compress.ts";

const MAX_NAME_WIRE = 255;
const ASCII_A = 0x41;
const ASCII_Z = 0x5a;
const TO_LOWER = 0x20;

/**
 * Writes `name` uncompressed with ASCII letters lowered (RFC 4034 §6.2) and returns the offset after it.
 * Length bytes are at most 63, below "A" (65), so lowering every byte in the range touches only letters.
 */
function writeCanonicalName(buf: Uint8Array, pos: number, name: string): number {
  const end = writeUncompressed(buf, pos, name);
  for (let i = pos; i < end; i++) {
    const b = buf[i]!;
    if (b >= ASCII_A && b <= ASCII_Z) buf[i] = b | TO_LOWER;
  }
  return end;
}

/** The canonical wire form of one name. */
export function canonicalName(name: string): Uint8Array {
  const buf = new Uint8Array(MAX_NAME_WIRE + 1);
  return buf.slice(0, writeCanonicalName(buf, 0, name));
}

/**
 * The canonical wire form of one record's data. Every RData kind that carries names (NS, CNAME, PTR,
 * MX, SOA, SRV) is a type on the RFC 4034 §6.2 list, so those names are lowered. Pre-encoded bytes pass
 * as they are: RFC 6840 §5.1 takes NSEC off that list, and the other byte kinds hold no names.
 */
export function canonicalRdata(rdata: RData): Uint8Array {
  if (rdata.kind === "bytes") return rdata.bytes;
  const buf = new Uint8Array(2 * (MAX_NAME_WIRE + 1) + 20);
  const view = new DataView(buf.buffer);
  let pos = 0;
  switch (rdata.kind) {
    case "name":
      pos = writeCanonicalName(buf, 0, rdata.target);
      break;
    case "mx":
      view.setUint16(0, rdata.preference);
      pos = writeCanonicalName(buf, 2, rdata.exchange);
      break;
    case "srv":
      view.setUint16(0, rdata.priority);
      view.setUint16(2, rdata.weight);
      view.setUint16(4, rdata.port);
      pos = writeCanonicalName(buf, 6, rdata.target);
      break;
    case "soa":
      pos = writeCanonicalName(buf, 0, rdata.mname);
      pos = writeCanonicalName(buf, pos, rdata.rname);
      for (const field of [rdata.serial, rdata.refresh, rdata.retry, rdata.expire, rdata.minimum]) {
        view.setUint32(pos, field);
        pos += 4;
      }
      break;
  }
  return buf.slice(0, pos);
}

/** RFC 4034 §6.3: octet by octet as unsigned numbers; a prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The set's rdata in canonical form and order, each distinct value once (RFC 4034 §6.3). */
export function canonicalRdataSet(set: RRset): Uint8Array[] {
  const sorted = set.rdata.map(canonicalRdata).sort(compareBytes);
  return sorted.filter((bytes, i) => i === 0 || compareBytes(sorted[i - 1]!, bytes) !== 0);
}
