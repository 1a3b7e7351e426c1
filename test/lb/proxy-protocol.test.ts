import { describe, expect, test } from "bun:test";
import { proxyHeader, proxyHeaderV1, proxyHeaderV2 } from "../../src/lb/proxy-protocol.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const SIG = "0d0a0d0a000d0a515549540a";

describe("v1", () => {
  test("TCP over IPv4", () => {
    const header = proxyHeaderV1("tcp", { address: "192.0.2.10", port: 56324 }, { address: "198.51.100.1", port: 443 });
    expect(new TextDecoder().decode(header)).toBe("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");
  });

  test("TCP over IPv6, addresses in canonical form", () => {
    const header = proxyHeaderV1("tcp", { address: "2001:DB8:0:0::1", port: 1234 }, { address: "2001:db8::2", port: 8443 });
    expect(new TextDecoder().decode(header)).toBe("PROXY TCP6 2001:db8::1 2001:db8::2 1234 8443\r\n");
  });

  test("an IPv4-mapped client is written as IPv4", () => {
    const header = proxyHeaderV1("tcp", { address: "::ffff:192.0.2.10", port: 1 }, { address: "198.51.100.1", port: 2 });
    expect(new TextDecoder().decode(header)).toBe("PROXY TCP4 192.0.2.10 198.51.100.1 1 2\r\n");
  });

  test("mixed families are both written as IPv6", () => {
    const header = proxyHeaderV1("tcp", { address: "192.0.2.10", port: 1 }, { address: "2001:db8::2", port: 2 });
    expect(new TextDecoder().decode(header)).toBe("PROXY TCP6 ::ffff:c000:20a 2001:db8::2 1 2\r\n");
  });

  test("the longest possible line fits the spec's 107 bytes", () => {
    const v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    expect(proxyHeaderV1("tcp", { address: v6, port: 65535 }, { address: v6, port: 65535 }).length).toBe(104);
  });

  test("UDP cannot be described", () => {
    expect(() => proxyHeaderV1("udp", { address: "192.0.2.1", port: 1 }, { address: "192.0.2.2", port: 2 })).toThrow(
      "PROXY protocol v1 only describes TCP connections; use version 2 for UDP",
    );
  });
});

describe("v2", () => {
  test("TCP over IPv4: signature, 0x21, 0x11, length 12, addresses, ports", () => {
    const header = proxyHeaderV2("tcp", { address: "192.0.2.10", port: 56324 }, { address: "198.51.100.1", port: 443 });
    expect(hex(header)).toBe(SIG + "21" + "11" + "000c" + "c000020a" + "c6336401" + "dc04" + "01bb");
  });

  test("UDP over IPv4 is family/transport 0x12", () => {
    const header = proxyHeaderV2("udp", { address: "127.0.0.1", port: 53 }, { address: "127.0.0.2", port: 5353 });
    expect(hex(header)).toBe(SIG + "21" + "12" + "000c" + "7f000001" + "7f000002" + "0035" + "14e9");
  });

  test("TCP over IPv6: 0x21, length 36", () => {
    const header = proxyHeaderV2("tcp", { address: "2001:db8::1", port: 1234 }, { address: "2001:db8::2", port: 8443 });
    expect(hex(header)).toBe(
      SIG + "21" + "21" + "0024" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002" + "04d2" + "20fb",
    );
  });

  test("UDP over IPv6 is 0x22", () => {
    const header = proxyHeaderV2("udp", { address: "::1", port: 1 }, { address: "::1", port: 2 });
    expect(hex(header.subarray(12, 16))).toBe("2122" + "0024");
    expect(header.length).toBe(16 + 36);
  });

  test("an IPv4-mapped client against an IPv4 listener is plain IPv4", () => {
    const header = proxyHeaderV2("tcp", { address: "::ffff:127.0.0.9", port: 1 }, { address: "127.0.0.1", port: 2 });
    expect(hex(header.subarray(13))).toBe("11" + "000c" + "7f000009" + "7f000001" + "0001" + "0002");
  });

  test("mixed families become IPv4-mapped IPv6", () => {
    const header = proxyHeaderV2("tcp", { address: "127.0.0.9", port: 1 }, { address: "::1", port: 2 });
    expect(hex(header.subarray(13))).toBe(
      "21" + "0024" + "00000000000000000000ffff7f000009" + "00000000000000000000000000000001" + "0001" + "0002",
    );
  });
});

test("proxyHeader picks the version", () => {
  const src = { address: "192.0.2.10", port: 1 };
  const dst = { address: "192.0.2.11", port: 2 };
  expect(proxyHeader(1, "tcp", src, dst)).toEqual(proxyHeaderV1("tcp", src, dst));
  expect(proxyHeader(2, "tcp", src, dst)).toEqual(proxyHeaderV2("tcp", src, dst));
});

test.each([
  [{ address: "client", port: 1 }, '"client" is not an IP address'],
  [{ address: "192.0.2.1", port: 65536 }, "port 65536 is out of range"],
  [{ address: "192.0.2.1", port: -1 }, "port -1 is out of range"],
])("bad input %p: %s", (source, problem) => {
  for (const version of [1, 2] as const) {
    expect(() => proxyHeader(version, "tcp", source, { address: "192.0.2.2", port: 2 })).toThrow(`PROXY protocol header: ${problem}`);
  }
});
