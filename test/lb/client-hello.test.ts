import { describe, expect, test } from "bun:test";
import { ClientHelloReader, MAX_CLIENT_HELLO_BYTES } from "../../src/lb/client-hello.ts";

const readClientHello = (stream: Uint8Array) => new ClientHelloReader().push(stream);

const u16 = (n: number) => [n >> 8, n & 0xff];
const u24 = (n: number) => [n >> 16, (n >> 8) & 0xff, n & 0xff];
const ascii = (text: string) => [...new TextEncoder().encode(text)];

function extension(type: number, data: number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data];
}

function sniExtension(name: number[], nameType = 0): number[] {
  const entry = [nameType, ...u16(name.length), ...name];
  return extension(0, [...u16(entry.length), ...entry]);
}

/** A ClientHello handshake message as RFC 8446 lays it out. */
function helloMessage(extensions: number[] | undefined): number[] {
  const body = [
    0x03, 0x03, // legacy_version
    ...new Array(32).fill(7), // random
    3, 1, 2, 3, // session id
    ...u16(4), 0x13, 0x01, 0x13, 0x02, // two cipher suites
    1, 0, // compression: null
    ...(extensions ? [...u16(extensions.length), ...extensions] : []),
  ];
  return [1, ...u24(body.length), ...body];
}

/** Wraps handshake bytes in TLS records of at most `recordSize` bytes each. */
function records(message: number[], recordSize = 16384): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < message.length; i += recordSize) {
    const part = message.slice(i, i + recordSize);
    out.push(22, 3, 1, ...u16(part.length), ...part);
  }
  return Uint8Array.from(out);
}

const withName = (name: string) => records(helloMessage([...extension(10, [0, 2, 0, 29]), ...sniExtension(ascii(name))]));

describe("server name", () => {
  test("read from one record, in lower case without a trailing dot", () => {
    expect(readClientHello(withName("App.Example.COM."))).toEqual({ done: true, serverName: "app.example.com" });
  });

  test("no server_name extension, or no extensions at all", () => {
    expect(readClientHello(records(helloMessage(extension(10, [0, 2, 0, 29]))))).toEqual({ done: true, serverName: undefined });
    expect(readClientHello(records(helloMessage(undefined)))).toEqual({ done: true, serverName: undefined });
  });

  test("a hello split over several records", () => {
    const stream = records(helloMessage(sniExtension(ascii("split.example"))), 10);
    expect(readClientHello(stream)).toEqual({ done: true, serverName: "split.example" });
  });

  test("bytes arriving one at a time: more until the last, and all of them kept to replay", () => {
    const stream = withName("slow.example");
    const reader = new ClientHelloReader();
    for (let i = 0; i < stream.length - 1; i++) expect(reader.push(stream.subarray(i, i + 1))).toEqual({ done: false });
    expect(reader.push(stream.subarray(stream.length - 1))).toEqual({ done: true, serverName: "slow.example" });
    expect(reader.received()).toEqual(stream);
  });

  test("a real ClientHello from openssl s_client", async () => {
    const reader = new ClientHelloReader();
    const { promise, resolve, reject } = Promise.withResolvers<string | undefined>();
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, chunk) {
          try {
            const progress = reader.push(chunk);
            if (progress.done) {
              resolve(progress.serverName);
              socket.end();
            }
          } catch (err) {
            reject(err);
          }
        },
      },
    });
    const client = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${listener.port}`, "-servername", "Real.Example.Org"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      expect(await promise).toBe("real.example.org");
    } finally {
      client.kill();
      listener.stop(true);
    }
  });
});

describe("malformed input gets a clear error", () => {
  test.each([
    ["plain HTTP", ascii("GET / HTTP/1.1\r\n\r\n"), "expected a TLS handshake record (type 22), got type 71; is the client speaking TLS?"],
    ["SSL 2 record version", Uint8Array.from([22, 2, 0, 0, 4, 1, 0, 0, 0]), "unsupported record version 2.0"],
    ["an empty record", Uint8Array.from([22, 3, 1, 0, 0]), "record length 0 is out of range"],
    ["a record too long", Uint8Array.from([22, 3, 1, 0xff, 0xff]), "record length 65535 is out of range"],
    ["not a ClientHello", records([2, 0, 0, 0]), "the first handshake message has type 2, not ClientHello (1)"],
    ["a hello declaring 1 MiB", records([1, ...u24(1 << 20)]), `declares 1048576 bytes, more than the ${MAX_CLIENT_HELLO_BYTES} allowed`],
    ["a truncated body", records([1, ...u24(10), ...new Array(10).fill(3)]), "truncated at legacy_version and random"],
    ["an extension longer than its list", records(helloMessage([0, 0, 0, 50, 1, 2])), "truncated at extension data"],
    ["a name with a space", withName("bad name.example"), "server name contains byte 0x20"],
    ["an empty name", records(helloMessage(sniExtension([]))), "empty server name"],
    ["an application data record before the hello is complete", Uint8Array.from([22, 3, 1, 0, 4, 1, 0, 0, 200, 23, 3, 3, 0, 1, 0]), "expected a TLS handshake record (type 22), got type 23"],
  ])("%s", (_what, bytes, problem) => {
    expect(() => new ClientHelloReader().push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes))).toThrow(
      `TLS ClientHello: ${problem}`,
    );
  });

  test("a hello trickled in one-byte records stops at the stream bound", () => {
    const reader = new ClientHelloReader();
    // Declares the largest allowed hello, but each byte costs a 5-byte record header.
    expect(reader.push(records([1, ...u24(MAX_CLIENT_HELLO_BYTES)], 1))).toEqual({ done: false });
    const filler = records(new Array(1024).fill(0), 1);
    expect(() => {
      for (let i = 0; i < 20; i++) reader.push(filler);
    }).toThrow(`TLS ClientHello: more than ${2 * MAX_CLIENT_HELLO_BYTES} bytes without a complete ClientHello`);
  });

  test("the largest allowed hello in full records still completes", () => {
    const body = new Array(MAX_CLIENT_HELLO_BYTES).fill(0);
    expect(readClientHello(records([1, ...u24(body.length), ...body]))).toEqual({ done: true, serverName: undefined });
  });
});
