// Bounds-checked big-endian reading and writing for the gossip codec. The reader throws
// WireError, which the decoder turns into a counted drop; nothing here escapes to a socket handler.

export class WireError extends Error {
  constructor(readonly reason: "truncated" | "bad-field") {
    super(reason);
  }
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export class ByteWriter {
  private buf = new Uint8Array(128);
  private at = 0;

  u8(value: number): this {
    this.room(1);
    this.buf[this.at++] = value;
    return this;
  }

  u16(value: number): this {
    this.room(2);
    this.buf[this.at++] = value >>> 8;
    this.buf[this.at++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    this.room(4);
    this.buf[this.at++] = value >>> 24;
    this.buf[this.at++] = (value >>> 16) & 0xff;
    this.buf[this.at++] = (value >>> 8) & 0xff;
    this.buf[this.at++] = value & 0xff;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.room(value.length);
    this.buf.set(value, this.at);
    this.at += value.length;
    return this;
  }

  /** A string of at most 255 UTF-8 bytes, behind a one-byte length. */
  str8(value: string, field: string): this {
    // UTF-8 needs at most three bytes per UTF-16 unit; encode in place after the length byte.
    this.room(1 + value.length * 3);
    const { written } = utf8.encodeInto(value, this.buf.subarray(this.at + 1));
    if (written > 255) throw new Error(`gossip ${field}: at most 255 bytes, got ${written}`);
    this.buf[this.at] = written;
    this.at += 1 + written;
    return this;
  }

  /** Bytes behind a two-byte length. */
  blob16(value: Uint8Array, field: string): this {
    if (value.length > 0xffff) throw new Error(`gossip ${field}: at most 65535 bytes, got ${value.length}`);
    return this.u16(value.length).bytes(value);
  }

  /** Bytes behind a four-byte length. */
  blob32(value: Uint8Array): this {
    return this.u32(value.length).bytes(value);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }

  private room(extra: number): void {
    if (this.at + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }
}

export class ByteReader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const value = (this.buf[this.at]! << 8) | this.buf[this.at + 1]!;
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const value = (b[this.at]! * 0x1000000) + ((b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!);
    this.at += 4;
    return value;
  }

  bytes(length: number): Uint8Array {
    this.need(length);
    const value = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }

  str8(): string {
    const raw = this.bytes(this.u8());
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new WireError("bad-field");
    }
  }

  /** A str8 that must not be empty: names and addresses. */
  name(): string {
    const value = this.str8();
    if (value === "") throw new WireError("bad-field");
    return value;
  }

  blob16(): Uint8Array {
    return this.bytes(this.u16());
  }

  blob32(): Uint8Array {
    return this.bytes(this.u32());
  }

  private need(length: number): void {
    if (this.at + length > this.buf.length) throw new WireError("truncated");
  }
}
