import { describe, expect, test } from "bun:test";
import { decodeTypeBitmap, encodeTypeBitmap } from "../../../../src/dns/dnssec/type-bitmap.ts";
import { RRType } from "../../../../src/dns/types.ts";

describe("type bit maps", () => {
  test("RFC 4034 §4.3's example: A MX RRSIG NSEC TYPE1234", () => {
    const bytes = encodeTypeBitmap([RRType.A, RRType.MX, RRType.RRSIG, RRType.NSEC, 1234]);
    const window4 = new Array(27).fill(0);
    window4[26] = 0x20;
    expect([...bytes]).toEqual([0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b, ...window4]);
  });

  test("order and repeats in the input do not matter", () => {
    expect(encodeTypeBitmap([RRType.NSEC, RRType.A, RRType.NSEC])).toEqual(encodeTypeBitmap([RRType.A, RRType.NSEC]));
  });

  test("a window's bitmap ends at its last set byte; windows without types are left out", () => {
    expect([...encodeTypeBitmap([RRType.A])]).toEqual([0, 1, 0x40]);
    expect([...encodeTypeBitmap([RRType.CAA])]).toEqual([1, 1, 0x40]);
    expect([...encodeTypeBitmap([])]).toEqual([]);
  });

  test("decodes what it encodes, across windows, in increasing order", () => {
    const types = [65535, 0x8000, RRType.CAA, 128, RRType.DNSKEY, RRType.A];
    expect(decodeTypeBitmap(encodeTypeBitmap(types))).toEqual([...types].sort((a, b) => a - b));
  });

  test("decoding a field cut short throws", () => {
    expect(() => decodeTypeBitmap(Uint8Array.from([0, 6, 0x40]))).toThrow("cut short");
  });
});
