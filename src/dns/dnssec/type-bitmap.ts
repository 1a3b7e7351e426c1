// The NSEC type bit maps field (RFC 4034 §4.1.2): the 65536 types split into 256 windows of 256; each
// window that has a type present is written as (window number, bitmap length, bitmap), in increasing
// window order, the bitmap cut after its last non-zero byte. Type t is bit (0x80 >> t % 8) of byte
// (t % 256) / 8 in window t / 256.

const WINDOW_SIZE = 256;
const MAX_BITMAP_BYTES = 32;

export function encodeTypeBitmap(types: Iterable<number>): Uint8Array {
  const windows = new Map<number, Uint8Array>();
  for (const type of types) {
    const window = type >>> 8;
    let bitmap = windows.get(window);
    if (!bitmap) windows.set(window, (bitmap = new Uint8Array(MAX_BITMAP_BYTES)));
    const low = type % WINDOW_SIZE;
    bitmap[low >>> 3]! |= 0x80 >>> (low & 7);
  }
  const out: number[] = [];
  for (const window of [...windows.keys()].sort((a, b) => a - b)) {
    const bitmap = windows.get(window)!;
    const length = bitmap.findLastIndex((byte) => byte !== 0) + 1;
    out.push(window, length, ...bitmap.subarray(0, length));
  }
  return Uint8Array.from(out);
}

/** The types a bit maps field lists, in increasing order. Throws on a field that is cut short. */
export function decodeTypeBitmap(bytes: Uint8Array): number[] {
  const types: number[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const window = bytes[pos]!;
    const length = bytes[pos + 1];
    if (length === undefined || pos + 2 + length > bytes.length) throw new Error("type bit maps field is cut short");
    for (let i = 0; i < length; i++) {
      const byte = bytes[pos + 2 + i]!;
      for (let bit = 0; bit < 8; bit++) {
        if (byte & (0x80 >>> bit)) types.push(window * WINDOW_SIZE + i * 8 + bit);
      }
    }
    pos += 2 + length;
  }
  return types;
}
