// Reading domain names out of a message (RFC 1035 §3.1, §4.1.4), for the parser and the truncation helper.

import { presentLabel } from "../../lib/dns-name.ts";
import { HEADER_SIZE } from "./header.ts";

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
const POINTER = 0xc0;

/** Lower-cased character for the bytes a plain label is made of (letters, digits, '-', '_'); 0 for any other byte. */
const PLAIN_CHAR = new Uint8Array(256);
for (let b = 0x30; b <= 0x39; b++) PLAIN_CHAR[b] = b;
for (let b = 0x61; b <= 0x7a; b++) PLAIN_CHAR[b] = b;
for (let b = 0x41; b <= 0x5a; b++) PLAIN_CHAR[b] = b | 0x20;
PLAIN_CHAR[0x2d] = 0x2d;
PLAIN_CHAR[0x5f] = 0x5f;

// The presentation form is assembled here, then turned into a string in one call (far cheaper than
// concatenating characters). \DDD escapes make a 255-byte name at most 4 × 255 characters long.
const scratch = Buffer.alloc(4 * MAX_NAME_WIRE);

/**
 * The canonical presentation form (see dns/name.ts) of the name at `offset`, or null when it is not a
 * valid name: runs past the end, uses the reserved label types 0x40/0x80, is over 255 bytes, or has a
 * compression pointer that does not point strictly before the name data it interrupts (which rules out
 * loops) or points into the header.
 */
export function readName(buf: Uint8Array, offset: number): string | null {
  let length = 0;
  let wireLength = 1;
  let pos = offset;
  // Every pointer must land before the start of the run it ends, so each jump moves strictly backwards.
  let runStart = offset;
  for (;;) {
    if (pos >= buf.length) return null;
    const labelLength = buf[pos]!;
    if (labelLength === 0) break;
    if (labelLength > MAX_LABEL) {
      if (labelLength < POINTER || pos + 1 >= buf.length) return null;
      const target = ((labelLength & 0x3f) << 8) | buf[pos + 1]!;
      if (target < HEADER_SIZE || target >= runStart) return null;
      pos = runStart = target;
      continue;
    }
    wireLength += labelLength + 1;
    const end = pos + 1 + labelLength;
    if (wireLength > MAX_NAME_WIRE || end > buf.length) return null;
    if (length > 0) scratch[length++] = 0x2e;
    const labelStart = length;
    for (let i = pos + 1; i < end; i++) {
      const c = PLAIN_CHAR[buf[i]!]!;
      if (c === 0) {
        length = writeEscapedLabel(buf.subarray(pos + 1, end), labelStart);
        break;
      }
      scratch[length++] = c;
    }
    pos = end;
  }
  return scratch.toString("latin1", 0, length);
}

/** Writes a label with odd bytes through presentLabel, so its escaping matches dns/name.ts exactly. */
function writeEscapedLabel(label: Uint8Array, at: number): number {
  const text = presentLabel(label);
  for (let i = 0; i < text.length; i++) scratch[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * The offset just past the name at `offset` without following pointers (a record's framing), or -1 when
 * it runs past the end or uses a reserved label type.
 */
export function skipName(buf: Uint8Array, offset: number): number {
  let pos = offset;
  while (pos < buf.length) {
    const labelLength = buf[pos]!;
    if (labelLength === 0) return pos + 1;
    if (labelLength > MAX_LABEL) return labelLength >= POINTER && pos + 2 <= buf.length ? pos + 2 : -1;
    pos += 1 + labelLength;
  }
  return -1;
}
