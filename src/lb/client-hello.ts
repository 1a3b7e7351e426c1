// Reads the server name (SNI) a TLS client asks for from the first bytes of its stream, without
// terminating TLS: enough to route a connection by name. The ClientHello may arrive in several TCP
// chunks and even span several TLS records; the bytes are kept so they can be replayed to the backend.

/** A ClientHello larger than this is refused; real ones, post-quantum key shares included, are a few KiB. */
export const MAX_CLIENT_HELLO_BYTES = 32 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST_NAME = 0;
const MAX_RECORD_PAYLOAD = 16384 + 2048;

export class ClientHelloError extends Error {
  constructor(problem: string) {
    super(`TLS ClientHello: ${problem}`);
    this.name = "ClientHelloError";
  }
}

export type HelloProgress = { done: false } | { done: true; serverName: string | undefined };

const MORE: HelloProgress = { done: false };

/**
 * Bytes kept at most before the hello is complete. Tiny records cost 5 header bytes each, so this is
 * above the hello's own bound, yet small enough that a client trickling bytes cannot grow it further.
 */
const MAX_STREAM_BYTES = 2 * MAX_CLIENT_HELLO_BYTES;

/**
 * Parses as bytes arrive, record by record, so a client sending one byte at a time costs linear work.
 * After it says done, feed it nothing more.
 */
export class ClientHelloReader {
  private readonly stream = new GrowingBytes();
  private readonly message = new GrowingBytes();
  /** Where the next unparsed record starts in `stream`. */
  private parsed = 0;
  private declaredLength = -1;

  /** Adds the next chunk; done with the server name (undefined when the client sent none), or throws ClientHelloError. */
  push(chunk: Uint8Array): HelloProgress {
    this.stream.append(chunk);
    const bytes = this.stream.view();
    while (this.parsed + 5 <= bytes.length) {
      const at = this.parsed;
      const type = bytes[at]!;
      if (type !== RECORD_HANDSHAKE) {
        throw new ClientHelloError(`expected a TLS handshake record (type 22), got type ${type}; is the client speaking TLS?`);
      }
      if (bytes[at + 1] !== 3) throw new ClientHelloError(`unsupported record version ${bytes[at + 1]}.${bytes[at + 2]}`);
      const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
      if (length === 0 || length > MAX_RECORD_PAYLOAD) throw new ClientHelloError(`record length ${length} is out of range`);
      if (at + 5 + length > bytes.length) break;
      this.parsed = at + 5 + length;
      this.message.append(bytes.subarray(at + 5, at + 5 + length));
      const serverName = this.complete();
      if (serverName !== MORE) return serverName;
    }
    if (bytes.length > MAX_STREAM_BYTES) {
      throw new ClientHelloError(`more than ${MAX_STREAM_BYTES} bytes without a complete ClientHello`);
    }
    return MORE;
  }

  /** Every byte received so far, to send on to the backend. */
  received(): Uint8Array {
    return this.stream.view();
  }

  private complete(): HelloProgress {
    const message = this.message.view();
    if (message.length < 4) return MORE;
    if (this.declaredLength < 0) {
      if (message[0] !== HANDSHAKE_CLIENT_HELLO) throw new ClientHelloError(`the first handshake message has type ${message[0]}, not ClientHello (1)`);
      this.declaredLength = (message[1]! << 16) | (message[2]! << 8) | message[3]!;
      if (this.declaredLength > MAX_CLIENT_HELLO_BYTES) {
        throw new ClientHelloError(`declares ${this.declaredLength} bytes, more than the ${MAX_CLIENT_HELLO_BYTES} allowed`);
      }
    }
    if (message.length < 4 + this.declaredLength) return MORE;
    return { done: true, serverName: serverNameOf(message.subarray(4, 4 + this.declaredLength)) };
  }
}

/** An append-only byte buffer that doubles its capacity, so appending n bytes in pieces costs O(n). */
class GrowingBytes {
  private bytes = new Uint8Array(512);
  private length = 0;

  append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + chunk.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Walks the ClientHello body (RFC 8446 4.1.2) to the server_name extension (RFC 6066 3). */
function serverNameOf(body: Uint8Array): string | undefined {
  const reader = new BoundedReader(body);
  reader.skip(2 + 32, "legacy_version and random");
  reader.skip(reader.u8("session id length"), "session id");
  reader.skip(reader.u16("cipher suites length"), "cipher suites");
  reader.skip(reader.u8("compression methods length"), "compression methods");
  if (reader.atEnd()) return undefined; // No extensions at all: a (very old) client without SNI.
  const extensions = reader.sub(reader.u16("extensions length"), "extensions");
  while (!extensions.atEnd()) {
    const type = extensions.u16("extension type");
    const data = extensions.sub(extensions.u16("extension length"), "extension data");
    if (type === EXTENSION_SERVER_NAME) return hostNameOf(data);
  }
  return undefined;
}

function hostNameOf(extension: BoundedReader): string | undefined {
  const list = extension.sub(extension.u16("server name list length"), "server name list");
  while (!list.atEnd()) {
    const nameType = list.u8("server name type");
    const name = list.bytes(list.u16("server name length"), "server name");
    if (nameType === NAME_TYPE_HOST_NAME) return hostName(name);
  }
  return undefined;
}

/** A host name as routing compares it: lower case, no trailing dot; bytes outside printable ASCII are refused. */
function hostName(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new ClientHelloError("empty server name");
  let text = "";
  for (const byte of bytes) {
    if (byte <= 0x20 || byte >= 0x7f) throw new ClientHelloError(`server name contains byte 0x${byte.toString(16).padStart(2, "0")}`);
    text += String.fromCharCode(byte);
  }
  return text.toLowerCase().replace(/\.$/, "");
}

/** Reads big-endian fields, throwing a ClientHelloError that names the field when the bytes run out. */
class BoundedReader {
  private at = 0;

  constructor(private readonly data: Uint8Array) {}

  atEnd(): boolean {
    return this.at >= this.data.length;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.data[this.at++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const value = (this.data[this.at]! << 8) | this.data[this.at + 1]!;
    this.at += 2;
    return value;
  }

  skip(length: number, field: string): void {
    this.need(length, field);
    this.at += length;
  }

  bytes(length: number, field: string): Uint8Array {
    this.need(length, field);
    const out = this.data.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  sub(length: number, field: string): BoundedReader {
    return new BoundedReader(this.bytes(length, field));
  }

  private need(length: number, field: string): void {
    if (this.at + length > this.data.length) throw new ClientHelloError(`truncated at ${field}`);
  }
}
