import { describe, expect, test } from "bun:test";
import { cidrContains, formatCidr, formatIp, ipFamily, parseCidr, parseIp, prefixMatches } from "../../src/lib/cidr.ts";

const ipOf = (text: string) => {
  const bytes = parseIp(text);
  if (!bytes) throw new Error(`test address ${text} did not parse`);
  return bytes;
};

describe("parseIp", () => {
  test("IPv4 to 4 bytes", () => {
    expect([...ipOf("192.0.2.1")]).toEqual([192, 0, 2, 1]);
    expect([...ipOf("0.0.0.0")]).toEqual([0, 0, 0, 0]);
  });

  test("IPv6 with and without compression, and with an IPv4 tail", () => {
    expect([...ipOf("2001:db8::1")]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...ipOf("::")]).toEqual(new Array(16).fill(0));
    expect(formatIp(ipOf("1:2:3:4:5:6:7:8"))).toBe("1:2:3:4:5:6:7:8");
    expect([...ipOf("::ffff:192.0.2.1").subarray(10)]).toEqual([0xff, 0xff, 192, 0, 2, 1]);
  });

  test.each([
    "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d",
    "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "fe80::1%eth0", "1.2.3.4::", "::1.2.3",
  ])("%p is not an address", (text) => {
    expect(parseIp(text)).toBeNull();
  });

  test("ipFamily", () => {
    expect(ipFamily("10.0.0.1")).toBe(4);
    expect(ipFamily("::1")).toBe(6);
    expect(ipFamily("example.com")).toBeNull();
  });
});

describe("formatIp", () => {
  test.each([
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["10.1.2.3", "10.1.2.3"],
  ])("%p is written %p", (text, canonical) => {
    expect(formatIp(ipOf(text))).toBe(canonical);
  });
});

describe("parseCidr", () => {
  test("IPv4 and IPv6 blocks", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ family: 4, bytes: new Uint8Array([10, 0, 0, 0]), prefix: 8 });
    expect(formatCidr(parseCidr("2001:DB8::/32"))).toBe("2001:db8::/32");
  });

  test("edge prefixes", () => {
    expect(parseCidr("0.0.0.0/0").prefix).toBe(0);
    expect(parseCidr("192.0.2.7/32").prefix).toBe(32);
    expect(parseCidr("::/0").prefix).toBe(0);
    expect(parseCidr("::1/128").prefix).toBe(128);
  });

  test.each([
    ["10.0.0.0", 'missing "/prefix"'],
    ["10.0.0/8", '"10.0.0" is not an IP address'],
    ["10.0.0.0/33", "prefix must be 0 to 32"],
    ["::/129", "prefix must be 0 to 128"],
    ["10.0.0.0/-1", "prefix must be 0 to 32"],
    ["10.0.0.0/08", "prefix must be 0 to 32"],
    ["10.0.0.0/", "prefix must be 0 to 32"],
    ["10.1.2.3/8", "host bits are set; the network is 10.0.0.0/8"],
  ])("%p: %p", (text, why) => {
    expect(() => parseCidr(text)).toThrow(`expected a CIDR such as "10.0.0.0/8", got ${JSON.stringify(text)}: ${why}`);
  });
});

describe("cidrContains", () => {
  const v4 = parseCidr("192.0.2.0/24");
  const v6 = parseCidr("2001:db8::/32");

  test("IPv4", () => {
    expect(cidrContains(v4, ipOf("192.0.2.255"))).toBe(true);
    expect(cidrContains(v4, ipOf("192.0.3.0"))).toBe(false);
  });

  test("IPv6", () => {
    expect(cidrContains(v6, ipOf("2001:db8:ffff::1"))).toBe(true);
    expect(cidrContains(v6, ipOf("2001:db9::1"))).toBe(false);
  });

  test("an IPv4-mapped IPv6 address matches IPv4 blocks", () => {
    expect(cidrContains(v4, ipOf("::ffff:192.0.2.9"))).toBe(true);
    expect(cidrContains(v4, ipOf("::ffff:198.51.100.9"))).toBe(false);
    expect(cidrContains(parseCidr("::ffff:0:0/96"), ipOf("203.0.113.1"))).toBe(true);
  });

  test("other families never match", () => {
    expect(cidrContains(v4, ipOf("::192.0.2.9"))).toBe(false);
    expect(cidrContains(v6, ipOf("32.1.13.184"))).toBe(false);
  });

  test("/0 holds everything of its family, /32 and /128 one address", () => {
    expect(cidrContains(parseCidr("0.0.0.0/0"), ipOf("255.255.255.255"))).toBe(true);
    expect(cidrContains(parseCidr("::/0"), ipOf("ffff::"))).toBe(true);
    expect(cidrContains(parseCidr("192.0.2.7/32"), ipOf("192.0.2.7"))).toBe(true);
    expect(cidrContains(parseCidr("192.0.2.7/32"), ipOf("192.0.2.6"))).toBe(false);
    expect(cidrContains(parseCidr("::1/128"), ipOf("::1"))).toBe(true);
    expect(cidrContains(parseCidr("::1/128"), ipOf("::2"))).toBe(false);
  });
});

describe("prefixMatches", () => {
  test("compares only the leading bits, including a partial byte", () => {
    const a = new Uint8Array([0b10110000]);
    const b = new Uint8Array([0b10111111]);
    expect(prefixMatches(a, b, 4)).toBe(true);
    expect(prefixMatches(a, b, 5)).toBe(false);
    expect(prefixMatches(a, b, 0)).toBe(true);
  });
});
