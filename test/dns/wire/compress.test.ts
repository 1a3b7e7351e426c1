import { describe, expect, test } from "bun:test";
import { NameError } from "../../../src/lib/dns-name.ts";
import { NameCompressor, writeUncompressed } from "../../../src/dns/wire/compress.ts";
import { wireName } from "./fixtures.ts";

function written(buf: Uint8Array, from: number, to: number): number[] {
  return [...buf.subarray(from, to)];
}

describe("NameCompressor", () => {
  test("points a repeated name at the seeded question", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.seed("www.example.com", 12);
    const end = compressor.writeCompressed(buf, 40, "www.example.com");
    expect(written(buf, 40, end)).toEqual([0xc0, 12]);
  });

  test("seeds a name it has not cached by its known suffixes, and matches the whole name by string", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.writeCompressed(buf, 100, "ns.zone.test");
    compressor.reset();
    compressor.seed("random42.zone.test", 12);
    let end = compressor.writeCompressed(buf, 60, "hostmaster.zone.test");
    // "zone.test" starts after random42's length byte and eight letters: 12 + 9.
    expect(written(buf, 60, end)).toEqual([10, ...Buffer.from("hostmaster"), 0xc0, 21]);
    end = compressor.writeCompressed(buf, 80, "mail.test");
    expect(written(buf, 80, end)).toEqual([4, ...Buffer.from("mail"), 0xc0, 26]);
    end = compressor.writeCompressed(buf, 100, "random42.zone.test");
    expect(written(buf, 100, end)).toEqual([0xc0, 12]);
  });

  test("seeds a question with escapes by the whole name only", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.writeCompressed(buf, 100, "example.net");
    compressor.reset();
    compressor.seed("a\\.b.example.net", 12);
    expect(written(buf, 40, compressor.writeCompressed(buf, 40, "a\\.b.example.net"))).toEqual([0xc0, 12]);
    expect(written(buf, 60, compressor.writeCompressed(buf, 60, "example.net"))).toEqual(wireName("example.net"));
  });

  test("does not point at the root question: the root is shorter written out", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(64);
    compressor.seed("", 12);
    expect(written(buf, 20, compressor.writeCompressed(buf, 20, ""))).toEqual([0]);
  });

  test("writes the new labels and points at the longest known suffix", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.seed("www.example.com", 12);
    const end = compressor.writeCompressed(buf, 40, "mail.example.com");
    // "example.com" starts after www's length byte and three letters: 12 + 4.
    expect(written(buf, 40, end)).toEqual([4, ...Buffer.from("mail"), 0xc0, 16]);
  });

  test("remembers the suffixes of names it writes", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.writeCompressed(buf, 100, "a.b.c");
    const end = compressor.writeCompressed(buf, 200, "x.b.c");
    expect(written(buf, 200, end)).toEqual([1, 0x78, 0xc0, 102]);
  });

  test("escaped labels are keyed and written by their bytes", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    let end = compressor.writeCompressed(buf, 100, "a\\.b.c");
    expect(written(buf, 100, end)).toEqual([3, 0x61, 0x2e, 0x62, 1, 0x63, 0]);
    end = compressor.writeCompressed(buf, 200, "b.c");
    expect(written(buf, 200, end)).toEqual([1, 0x62, 0xc0, 104]);
  });

  test("writes the root as a single zero byte", () => {
    const buf = new Uint8Array(16).fill(9);
    expect(new NameCompressor().writeCompressed(buf, 3, "")).toBe(4);
    expect(buf[3]).toBe(0);
  });

  test("never points past offset 0x3fff", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(0x5000);
    compressor.writeCompressed(buf, 0x3ffe, "a.example");
    // "a.example" fits a pointer at 0x3ffe, its suffix "example" at 0x4000 does not.
    let end = compressor.writeCompressed(buf, 0x4100, "a.example");
    expect(written(buf, 0x4100, end)).toEqual([0xff, 0xfe]);
    end = compressor.writeCompressed(buf, 0x4200, "b.example");
    expect(written(buf, 0x4200, end)).toEqual(wireName("b.example"));
  });

  test("reset forgets the previous message", () => {
    const compressor = new NameCompressor();
    const buf = new Uint8Array(512);
    compressor.seed("example.com", 12);
    compressor.reset();
    const end = compressor.writeCompressed(buf, 40, "example.com");
    expect(written(buf, 40, end)).toEqual(wireName("example.com"));
  });

  test("refuses names that cannot be written instead of writing a corrupt message", () => {
    const buf = new Uint8Array(512);
    const compressor = new NameCompressor();
    for (const bad of ["a..b", "x".repeat(64) + ".com", Array(128).fill("a").join("."), "a\\999.b"]) {
      expect(() => compressor.writeCompressed(buf, 0, bad)).toThrow(NameError);
    }
    expect(compressor.writeCompressed(buf, 0, Array(127).fill("a").join("."))).toBe(255);
  });
});

describe("writeUncompressed", () => {
  test("writes the full name", () => {
    const buf = new Uint8Array(512);
    const end = writeUncompressed(buf, 100, "sip.example.com");
    expect(written(buf, 100, end)).toEqual(wireName("sip.example.com"));
  });
});
