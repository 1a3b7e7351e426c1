// The 12-byte DNS header (RFC 1035 §4.1.1): field offsets, flag bits, and big-endian access.

export const HEADER_SIZE = 12;

export const ID_OFFSET = 0;
export const FLAGS_OFFSET = 2;
export const QDCOUNT_OFFSET = 4;
export const ANCOUNT_OFFSET = 6;
export const NSCOUNT_OFFSET = 8;
export const ARCOUNT_OFFSET = 10;

/** The flag bits the wire layer reads or writes (RA and AD are never set: we neither recurse nor validate). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  CD: 0x0010,
} as const;

const OPCODE_MASK = 0x7800;
const OPCODE_SHIFT = 11;
export const RCODE_MASK = 0x000f;

/** The query bits a response carries over unchanged: opcode, RD, and CD (RFC 6840 §5.9). */
export const ECHOED_FLAGS = OPCODE_MASK | Flag.RD | Flag.CD;

export function opcodeOf(flags: number): number {
  return (flags & OPCODE_MASK) >>> OPCODE_SHIFT;
}

export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}
