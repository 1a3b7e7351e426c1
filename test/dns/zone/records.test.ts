import { describe, expect, test } from "bun:test";
import { formatRR } from "../../../src/dns/zone/present.ts";
import { RecordSyntaxError, parseRecords } from "../../../src/dns/zone/records.ts";

const options = { origin: "example.com", defaultTtl: 300 };

/** Parses and prints back, so each case reads as zone-file text in and out. */
function parsed(text: string): string[] {
  return parseRecords(text, options).map(formatRR);
}

function syntaxError(text: string): { line: number; message: string } {
  try {
    parseRecords(text, options);
  } catch (err) {
    if (err instanceof RecordSyntaxError) return { line: err.line, message: err.message };
    throw err;
  }
  throw new Error("expected a RecordSyntaxError");
}

describe("parseRecords: names, TTLs and classes", () => {
  const cases: { name: string; text: string; want: string[] }[] = [
    {
      name: "relative, absolute and @ owners against the default origin",
      text: "www A 192.0.2.1\nmail.example.com. A 192.0.2.2\n@ MX 10 mail",
      want: [
        "www.example.com. 300 IN A 192.0.2.1",
        "mail.example.com. 300 IN A 192.0.2.2",
        "example.com. 300 IN MX 10 mail.example.com.",
      ],
    },
    {
      name: "a blank owner repeats the previous owner",
      text: "www A 192.0.2.1\n  AAAA 2001:db8::1\n\tTXT hello",
      want: ["www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN AAAA 2001:db8::1", 'www.example.com. 300 IN TXT "hello"'],
    },
    {
      name: "$ORIGIN changes relative names, absolute or relative to the current origin",
      text: "$ORIGIN example.org.\nwww A 192.0.2.1\n$ORIGIN sub\nhost A 192.0.2.2\n@ NS ns1.example.org.",
      want: ["www.example.org. 300 IN A 192.0.2.1", "host.sub.example.org. 300 IN A 192.0.2.2", "sub.example.org. 300 IN NS ns1.example.org."],
    },
    {
      name: "TTL and class in either order; $TTL sets the default; units",
      text: "a 60 IN A 192.0.2.1\nb IN 70 A 192.0.2.2\n$TTL 1h30m\nc A 192.0.2.3\nd in 1D A 192.0.2.4\ne CLASS1 A 192.0.2.5",
      want: [
        "a.example.com. 60 IN A 192.0.2.1",
        "b.example.com. 70 IN A 192.0.2.2",
        "c.example.com. 5400 IN A 192.0.2.3",
        "d.example.com. 86400 IN A 192.0.2.4",
        "e.example.com. 5400 IN A 192.0.2.5",
      ],
    },
    {
      name: "names are made canonical: lower case, escapes kept",
      text: "WWW.Example.COM. A 192.0.2.1\nodd\\.label A 192.0.2.2\n@ CNAME Target.Example.NET.",
      want: ["www.example.com. 300 IN A 192.0.2.1", "odd\\.label.example.com. 300 IN A 192.0.2.2", "example.com. 300 IN CNAME target.example.net."],
    },
    {
      name: "owner names that spell a type (a, mx) stay owners",
      text: "a A 192.0.2.1\nmx MX 5 a",
      want: ["a.example.com. 300 IN A 192.0.2.1", "mx.example.com. 300 IN MX 5 a.example.com."],
    },
    {
      name: "comments and parentheses across lines",
      text: "; a whole-line comment\nsrv SRV ( 10 ; priority\n  20 ; weight\n  5060 sip ) ; port and target\n\n",
      want: ["srv.example.com. 300 IN SRV 10 20 5060 sip.example.com."],
    },
    {
      name: "wildcard and root names",
      text: "*.wild A 192.0.2.1\n@ MX 0 .",
      want: ["*.wild.example.com. 300 IN A 192.0.2.1", "example.com. 300 IN MX 0 ."],
    },
  ];
  for (const c of cases) test(c.name, () => expect(parsed(c.text)).toEqual(c.want));
});

describe("parseRecords: record types", () => {
  const cases: { name: string; text: string; want: string[] }[] = [
    { name: "A", text: "a A 10.0.0.255", want: ["a.example.com. 300 IN A 10.0.0.255"] },
    {
      name: "AAAA in several spellings, printed per RFC 5952",
      text: "a AAAA 2001:DB8:0:0:0:0:0:1\na AAAA ::\na AAAA ::ffff:192.0.2.1\na AAAA 2001:db8:0:1:0:0:0:0",
      want: [
        "a.example.com. 300 IN AAAA 2001:db8::1",
        "a.example.com. 300 IN AAAA ::",
        "a.example.com. 300 IN AAAA ::ffff:c000:201",
        "a.example.com. 300 IN AAAA 2001:db8:0:1::",
      ],
    },
    { name: "NS", text: "sub NS ns.sub", want: ["sub.example.com. 300 IN NS ns.sub.example.com."] },
    { name: "PTR", text: "1 PTR host.example.net.", want: ["1.example.com. 300 IN PTR host.example.net."] },
    {
      name: "TXT with several strings, escapes and unquoted words",
      text: 'a TXT "v=spf1 -all" two "say \\"hi\\"" "semi\\;colon" "\\065\\\\"',
      want: ['a.example.com. 300 IN TXT "v=spf1 -all" "two" "say \\"hi\\"" "semi;colon" "A\\\\"'],
    },
    { name: "TXT empty string and non-ASCII as UTF-8", text: 'a TXT "" "é"', want: ['a.example.com. 300 IN TXT "" "\\195\\169"'] },
    {
      name: "TXT longer than 255 bytes is split into 255-byte strings",
      text: `a TXT "${"x".repeat(300)}"`,
      want: [`a.example.com. 300 IN TXT "${"x".repeat(255)}" "${"x".repeat(45)}"`],
    },
    {
      name: "CAA",
      text: '@ CAA 0 issue "letsencrypt.org"\n@ CAA 128 iodef "mailto:security@example.com"',
      want: ['example.com. 300 IN CAA 0 issue "letsencrypt.org"', 'example.com. 300 IN CAA 128 iodef "mailto:security@example.com"'],
    },
    {
      name: "DS with the digest split by spaces",
      text: "sub DS 12345 13 2 ( 49FD46E6C4B45C55D4AC69CBD3CD3440\n 9ACDF8C9D4B3B2D1A2C3D4E5F6A7B8C9 )",
      want: ["sub.example.com. 300 IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34409ACDF8C9D4B3B2D1A2C3D4E5F6A7B8C9"],
    },
    { name: "generic unknown type", text: "a TYPE65280 \\# 3 ABCDEF", want: ["a.example.com. 300 IN TYPE65280 \\# 3 ABCDEF"] },
    { name: "generic empty data", text: "a TYPE65280 \\# 0", want: ["a.example.com. 300 IN TYPE65280 \\# 0"] },
    { name: "generic form of a known type", text: "a TYPE1 \\# 4 C0000201", want: ["a.example.com. 300 IN A 192.0.2.1"] },
  ];
  for (const c of cases) test(c.name, () => expect(parsed(c.text)).toEqual(c.want));

  test("record data comes out in the RData shapes the encoder takes", () => {
    const [a, mx, srv, cname] = parseRecords("a A 192.0.2.1\nb MX 10 a\nc SRV 1 2 3 a\nd CNAME a", options);
    expect(a!.rdata).toEqual({ kind: "bytes", bytes: Uint8Array.from([192, 0, 2, 1]) });
    expect(mx!.rdata).toEqual({ kind: "mx", preference: 10, exchange: "a.example.com" });
    expect(srv!.rdata).toEqual({ kind: "srv", priority: 1, weight: 2, port: 3, target: "a.example.com" });
    expect(cname!.rdata).toEqual({ kind: "name", target: "a.example.com" });
  });

  test("empty text and comment-only text give no records", () => {
    expect(parsed("")).toEqual([]);
    expect(parsed("  ; nothing here\n\n")).toEqual([]);
  });
});

describe("parseRecords: errors name the line", () => {
  const cases: { name: string; text: string; line: number; message: string }[] = [
    { name: "bad IPv4", text: "a A 192.0.2.1\n\nb A 1.2.3", line: 3, message: 'line 3: expected an IPv4 address for A, got "1.2.3"' },
    { name: "IPv4 with a leading zero", text: "a A 192.0.2.01", line: 1, message: 'line 1: expected an IPv4 address for A, got "192.0.2.01"' },
    { name: "bad IPv6", text: "a AAAA 2001:db8::1::2", line: 1, message: 'line 1: expected an IPv6 address for AAAA, got "2001:db8::1::2"' },
    { name: "missing field", text: "a MX 10", line: 1, message: "line 1: expected an exchange name for MX, but the record ends" },
    { name: "missing field on the last line of a multi-line record", text: "a SRV (1 2\n 3 )", line: 2, message: "line 2: expected a target name for SRV, but the record ends" },
    { name: "number out of range", text: "a MX 70000 b", line: 1, message: 'line 1: expected a preference (0-65535) for MX, got "70000"' },
    { name: "extra data", text: "a A 192.0.2.1 192.0.2.2", line: 1, message: 'line 1: unexpected "192.0.2.2" after the A data' },
    { name: "unknown type", text: "a HINFO cpu os", line: 1, message: 'line 1: unknown record type "HINFO" (write other types as TYPE<number> \\# <length> <hex>, RFC 3597)' },
    { name: "SOA is vigil's", text: "@ SOA ns hostmaster 1 2 3 4 5", line: 1, message: "line 1: SOA is not allowed in dns.records: vigil builds each zone's SOA from dns.soa" },
    { name: "DNSSEC types are vigil's", text: "@ TYPE46 \\# 0", line: 1, message: "line 1: RRSIG is not allowed in dns.records: vigil makes its DNSSEC records itself" },
    { name: "query types are not data", text: "@ ANY \\# 0", line: 1, message: "line 1: ANY is not a type of zone data" },
    { name: "other classes", text: "a CH A 192.0.2.1", line: 1, message: 'line 1: only class IN is served, got "CH"' },
    { name: "TTL too large", text: "a 2147483648 A 192.0.2.1", line: 1, message: "line 1: TTL 2147483648 is over 2147483647 seconds" },
    { name: "bad $TTL", text: "$TTL soon", line: 1, message: 'line 1: expected a TTL, got "soon"' },
    { name: "$INCLUDE", text: "\n$INCLUDE other.zone", line: 2, message: "line 2: $INCLUDE is not supported (only $ORIGIN and $TTL are)" },
    { name: "blank owner first", text: "  A 192.0.2.1", line: 1, message: "line 1: the line starts with a blank, but there is no previous owner name to repeat" },
    { name: "no type", text: "a 300 IN", line: 1, message: "line 1: expected a record type, but the record ends" },
    { name: "unterminated quote", text: 'a TXT "open\nb A 192.0.2.1', line: 1, message: "line 1: quoted string is not closed on its line" },
    { name: "unclosed parenthesis", text: "a A 192.0.2.1\nb MX ( 10\n c\n", line: 2, message: 'line 2: "(" is never closed' },
    { name: "stray closing parenthesis", text: "a A 192.0.2.1 )", line: 1, message: 'line 1: ")" without a matching "("' },
    { name: "label too long", text: `${"x".repeat(64)} A 192.0.2.1`, line: 1, message: `line 1: bad owner name "${"x".repeat(64)}": label "${"x".repeat(64)}" is longer than 63 bytes` },
    { name: "empty label in a target", text: "a CNAME b..", line: 1, message: 'line 1: expected a domain name for CNAME, got "b.." (empty label in "b..")' },
    { name: "bad CAA tag", text: '@ CAA 0 "issue" "ca"', line: 1, message: 'line 1: expected a tag of letters and digits for CAA, got "issue"' },
    { name: "generic length mismatch", text: "a TYPE65280 \\# 4 ABCDEF", line: 1, message: "line 1: TYPE65280 generic data: \\# says 4 bytes, the hex has 3" },
    { name: "generic A of the wrong size", text: "a TYPE1 \\# 3 ABCDEF", line: 1, message: "line 1: A generic data: must be 4 bytes, got 3" },
    { name: "generic form for a type with names", text: "a MX \\# 3 000A00", line: 1, message: 'line 1: expected the usual data form for MX, got "\\#" (not the generic form)' },
    { name: "bad hex", text: "a TYPE65280 \\# 1 XY", line: 1, message: 'line 1: expected hex data for TYPE65280, got "XY"' },
    { name: "bad escape in a string", text: 'a TXT "\\300"', line: 1, message: 'line 1: expected a string for TXT, got "\\300" (bad escape)' },
  ];
  for (const c of cases) {
    test(c.name, () => expect(syntaxError(c.text)).toEqual({ line: c.line, message: c.message }));
  }
});
