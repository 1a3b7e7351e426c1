// An HTTP/1.x response read as it arrives, for the http probe: the status, then the body by its
// framing (Content-Length, chunked, or until the connection closes), kept up to a byte limit.
// A health check needs no more than that: no header values beyond framing, no trailers, no keep-alive.

import { CappedText } from "./result.ts";

const HEAD_LIMIT_BYTES = 16 * 1024;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;
const CHUNK_SIZE_LINE = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/;

export class MalformedResponse extends Error {
  constructor(what: string) {
    super(`malformed HTTP response: ${what}`);
  }
}

type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

type ChunkState = { at: "size" } | { at: "data"; left: number } | { at: "data-end" } | { at: "trailers" };

export class HttpResponseReader {
  /** The final (non-1xx) status, once the head has arrived. */
  status: number | undefined;
  readonly body: CappedText;
  /** The body ended by its framing (or there is none). */
  complete = false;

  private head = "";
  private framing: Framing = { kind: "none" };
  private chunk: ChunkState = { at: "size" };
  private line = "";

  constructor(bodyLimitBytes: number, private readonly bodiless: boolean) {
    this.body = new CappedText(bodyLimitBytes);
  }

  /** Takes the next bytes; throws MalformedResponse when they cannot be HTTP. */
  feed(chunk: Uint8Array): void {
    let bytes = chunk;
    while (bytes.length > 0 && this.status === undefined) bytes = this.readHead(bytes);
    if (bytes.length > 0 && !this.complete) this.readBody(bytes);
  }

  /** The peer closed: a body that runs until the close is complete now. */
  closed(): void {
    if (this.framing.kind === "close") this.complete = true;
  }

  /** Reads head bytes; returns what follows the head (the body's start, or the next head after a 1xx). */
  private readHead(bytes: Uint8Array): Uint8Array {
    const before = this.head.length;
    this.head += latin1(bytes);
    const end = this.head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.head.length > HEAD_LIMIT_BYTES) throw new MalformedResponse("head over 16 KiB");
      if (!"HTTP/1.".startsWith(this.head.slice(0, 7))) throw new MalformedResponse("no HTTP status line");
      return bytes.subarray(bytes.length);
    }
    const [statusLine = "", ...fields] = this.head.slice(0, end).split("\r\n");
    const status = STATUS_LINE.exec(statusLine);
    if (!status) throw new MalformedResponse("no HTTP status line");
    const rest = bytes.subarray(end + 4 - before);
    this.head = "";
    const code = Number(status[1]);
    if (code < 200) return rest; // 100 Continue and friends: the real response follows
    this.status = code;
    this.framing = this.framingOf(code, fields);
    this.complete = this.framing.kind === "none";
    return rest;
  }

  private framingOf(code: number, fields: string[]): Framing {
    if (this.bodiless || code === 204 || code === 304) return { kind: "none" };
    let length: number | undefined;
    for (const field of fields) {
      const colon = field.indexOf(":");
      if (colon <= 0) throw new MalformedResponse("bad header line");
      const name = field.slice(0, colon).trim().toLowerCase();
      const value = field.slice(colon + 1).trim();
      if (name === "transfer-encoding" && value.toLowerCase().split(",").at(-1)?.trim() === "chunked") return { kind: "chunked" };
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value)) throw new MalformedResponse("bad Content-Length");
        length = Number(value);
      }
    }
    if (length === undefined) return { kind: "close" };
    return length === 0 ? { kind: "none" } : { kind: "length", left: length };
  }

  private readBody(bytes: Uint8Array): void {
    const framing = this.framing;
    if (framing.kind === "close") this.body.add(bytes);
    else if (framing.kind === "length") {
      const part = bytes.subarray(0, framing.left);
      this.body.add(part);
      framing.left -= part.length;
      this.complete = framing.left === 0;
    } else if (framing.kind === "chunked") this.readChunked(bytes);
  }

  private readChunked(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length && !this.complete) {
      const state = this.chunk;
      if (state.at === "data") {
        const part = bytes.subarray(at, at + state.left);
        this.body.add(part);
        at += part.length;
        state.left -= part.length;
        if (state.left === 0) this.chunk = { at: "data-end" };
        continue;
      }
      const newline = bytes.indexOf(0x0a, at);
      const end = newline < 0 ? bytes.length : newline;
      this.line += latin1(bytes.subarray(at, end));
      if (this.line.length > HEAD_LIMIT_BYTES) throw new MalformedResponse("chunk line over 16 KiB");
      at = end + 1;
      if (newline < 0) break;
      const line = this.line.replace(/\r$/, "");
      this.line = "";
      this.nextChunkState(state, line);
    }
  }

  private nextChunkState(state: ChunkState, line: string): void {
    if (state.at === "data-end") {
      if (line !== "") throw new MalformedResponse("chunk longer than its size");
      this.chunk = { at: "size" };
    } else if (state.at === "size") {
      const size = CHUNK_SIZE_LINE.exec(line);
      if (!size) throw new MalformedResponse("bad chunk size");
      const left = parseInt(size[1]!, 16);
      this.chunk = left === 0 ? { at: "trailers" } : { at: "data", left };
    } else if (line === "") this.complete = true; // the blank line after the trailers
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
