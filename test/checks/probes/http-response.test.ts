import { describe, expect, test } from "bun:test";
import { HttpResponseReader } from "../../../src/checks/probes/http-response.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds a response in pieces of `step` bytes (1: every byte alone), then the close when asked. */
function read(text: string, { step = text.length, limit = 1024, bodiless = false, close = false } = {}): HttpResponseReader {
  const reader = new HttpResponseReader(limit, bodiless);
  const all = bytes(text);
  for (let at = 0; at < all.length; at += step) reader.feed(all.subarray(at, at + step));
  if (close) reader.closed();
  return reader;
}

describe("HttpResponseReader: framing", () => {
  const cases: [string, string, string][] = [
    ["Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello"],
    ["chunked, with an extension and trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n", "hello"],
    ["no length, read to the close", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello", "hello"],
    ["a 100 Continue before the response", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello"],
  ];
  for (const [name, response, body] of cases) {
    test(`${name}: whole, and a byte at a time`, () => {
      for (const step of [response.length, 1, 7]) {
        const reader = read(response, { step, close: true });
        expect(reader.status).toBe(200);
        expect(reader.body.text).toBe(body);
        expect(reader.complete).toBe(true);
      }
    });
  }

  test("a body read to the close is complete only at the close", () => {
    const reader = read("HTTP/1.1 200 OK\r\n\r\npart");
    expect(reader.complete).toBe(false);
    reader.closed();
    expect(reader.complete).toBe(true);
  });

  test("HEAD, 204 and 304 have no body whatever the headers say", () => {
    expect(read("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", { bodiless: true }).complete).toBe(true);
    expect(read("HTTP/1.1 204 No Content\r\n\r\n").complete).toBe(true);
    expect(read("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").complete).toBe(true);
  });

  test("bytes after a Content-Length body are ignored; the body is kept only up to the limit", () => {
    expect(read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA").body.text).toBe("ok");
    const big = read(`HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n${"a".repeat(3000)}`, { limit: 100 });
    expect(big.body.text.length).toBe(100);
    expect(big.body.full).toBe(true);
  });

  test("the status is known before the body arrives", () => {
    const reader = read("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n");
    expect(reader.status).toBe(503);
    expect(reader.complete).toBe(false);
  });
});

describe("HttpResponseReader: what is not HTTP", () => {
  const bad: [string, string][] = [
    ["SSH-2.0-OpenSSH\r\n", "no HTTP status line"],
    ["HTTP/2 200\r\n\r\n", "no HTTP status line"],
    ["HTTP/1.1 2000 OK\r\n\r\n", "no HTTP status line"],
    ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"],
    ["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "chunk longer than its size"],
    [`HTTP/1.1 200 OK\r\nX: ${"a".repeat(17 * 1024)}`, "head over 16 KiB"],
  ];
  for (const [response, why] of bad) {
    test(`${JSON.stringify(response.slice(0, 40))}: ${why}`, () => {
      expect(() => read(response)).toThrow(`malformed HTTP response: ${why}`);
    });
  }

  test("garbage is refused from its first bytes, without waiting for a blank line", () => {
    expect(() => read("SSH")).toThrow("no HTTP status line");
    expect(() => read("HTT")).not.toThrow();
  });
});
