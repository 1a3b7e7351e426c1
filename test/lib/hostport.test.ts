import { describe, expect, test } from "bun:test";
import { formatHostPort, parseHostPort } from "../../src/lib/hostport.ts";

describe("parseHostPort", () => {
  test.each([
    ["0.0.0.0:53", "0.0.0.0", 53],
    ["[::1]:53", "::1", 53],
    ["[2001:DB8:0::1]:8053", "2001:db8::1", 8053],
    ["Overwatch-1.Internal:7946", "overwatch-1.internal", 7946],
    ["localhost:0", "localhost", 0],
    ["127.0.0.1:65535", "127.0.0.1", 65535],
  ])("%p → %p port %p", (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
  });

  test.each([
    ["53", 'expected host:port, got "53"'],
    ["::1:53", 'expected host:port, got "::1:53": put an IPv6 address in brackets, as in "[::1]:53"'],
    ["[::1]", 'expected host:port, got "[::1]": missing ":port" after "]"'],
    ["[::1:53", 'expected host:port, got "[::1:53": missing "]"'],
    ["[10.0.0.1]:53", 'expected host:port, got "[10.0.0.1]:53": "10.0.0.1" in brackets is not an IPv6 address'],
    [":53", 'expected host:port, got ":53": the host is missing; use "0.0.0.0" or "[::]" for every address'],
    ["host:65536", 'expected host:port, got "host:65536": the port must be a number from 0 to 65535'],
    ["host:", 'expected host:port, got "host:": the port must be a number from 0 to 65535'],
    ["host:053", 'expected host:port, got "host:053": the port must be a number from 0 to 65535'],
    ["300.1.1.1:53", 'expected host:port, got "300.1.1.1:53": "300.1.1.1" is not an IP address or host name'],
    ["bad_host!:53", 'expected host:port, got "bad_host!:53": "bad_host!" is not an IP address or host name'],
  ])("%p is refused", (text, message) => {
    expect(() => parseHostPort(text)).toThrow(message);
  });
});

test("formatHostPort brackets IPv6 hosts only", () => {
  expect(formatHostPort({ host: "::1", port: 53 })).toBe("[::1]:53");
  expect(formatHostPort({ host: "10.0.0.1", port: 53 })).toBe("10.0.0.1:53");
  expect(formatHostPort(parseHostPort("[::]:53"))).toBe("[::]:53");
});
