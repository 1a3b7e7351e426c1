import { afterAll, describe, expect, test } from "bun:test";
import { httpProbe } from "../../../src/checks/probes/http.ts";
import { waitFor } from "../../helpers/wait.ts";
import { closedTcpPort, countingTcpServer, runProbe, targetOf, type SettingsOfKind } from "./loopback.ts";

type HttpSettings = SettingsOfKind<"http">;

const BASE: HttpSettings = { type: "http", method: "GET", path: "/health", expect_status: [{ from: 200, to: 399 }], tls_verify: true };

const requests: { method: string; path: string; host: string | null }[] = [];

/** Streams "chunk " forever, until the client goes away. */
function endlessBody(): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("chunk ".repeat(2048));
  return new ReadableStream({ pull: (controller) => controller.enqueue(chunk) });
}

const app = (request: Request): Response => {
  const url = new URL(request.url);
  requests.push({ method: request.method, path: url.pathname, host: request.headers.get("host") });
  switch (url.pathname) {
    case "/health":
      return new Response("all good");
    case "/broken":
      return new Response("down for maintenance", { status: 503 });
    case "/moved":
      return new Response(null, { status: 302, headers: { location: "/broken" } });
    case "/big":
      return new Response("a".repeat(100 * 1024) + "needle");
    case "/endless":
      return new Response(endlessBody());
    default:
      return new Response("no such page", { status: 404 });
  }
};

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app });
const serverPort = Number(server.url.port);
const probe = (settings: Partial<HttpSettings>, options?: { timeout?: number; address?: string; port?: number }) =>
  runProbe(httpProbe, targetOf({ ...BASE, ...settings }, options?.port ?? serverPort, options));

afterAll(() => server.stop(true));

describe("http probe: status", () => {
  test("a 200 is up, with the status and path in the detail", async () => {
    const result = await probe({});
    expect(result).toMatchObject({ status: "up", detail: "HTTP 200 from /health" });
  });

  test("a 503 is down and says what was expected", async () => {
    const result = await probe({ path: "/broken" });
    expect(result).toMatchObject({ status: "down", detail: "HTTP 503 from /broken, expected 200-399" });
  });

  test("expect_status ranges decide, one code or several ranges", async () => {
    expect((await probe({ path: "/broken", expect_status: [{ from: 503, to: 503 }] })).status).toBe("up");
    const strict = await probe({ expect_status: [{ from: 204, to: 204 }, { from: 300, to: 302 }] });
    expect(strict).toMatchObject({ status: "down", detail: "HTTP 200 from /health, expected 204, 300-302" });
  });

  test("a redirect counts by its own status and is not followed", async () => {
    requests.length = 0;
    expect(await probe({ path: "/moved" })).toMatchObject({ status: "up", detail: "HTTP 302 from /moved" });
    expect((await probe({ path: "/moved", expect_status: [{ from: 200, to: 299 }] })).status).toBe("down");
    expect(requests.map((r) => r.path)).toEqual(["/moved", "/moved"]);
  });
});

describe("http probe: request", () => {
  test("sends the method, and the Host header when set", async () => {
    requests.length = 0;
    await probe({ method: "HEAD", host: "app.example.com" });
    await probe({});
    expect(requests).toEqual([
      { method: "HEAD", path: "/health", host: "app.example.com" },
      { method: "GET", path: "/health", host: `127.0.0.1:${serverPort}` },
    ]);
  });

  test("reaches an IPv6 address (the URL brackets it)", async () => {
    const v6 = Bun.serve({ hostname: "::1", port: 0, fetch: app });
    try {
      expect((await probe({}, { address: "::1", port: Number(v6.url.port) })).status).toBe("up");
    } finally {
      v6.stop(true);
    }
  });
});

describe("http probe: body", () => {
  test("expect_body found is up, missing is down", async () => {
    expect(await probe({ expect_body: "good" })).toMatchObject({ status: "up", detail: 'HTTP 200 from /health with "good"' });
    expect(await probe({ expect_body: "bad" })).toMatchObject({ status: "down", detail: 'HTTP 200 from /health, body lacks "bad"' });
  });

  test("only the first 64 KiB of the body are searched", async () => {
    expect((await probe({ path: "/big", expect_body: "needle" })).status).toBe("down");
  });

  test("an endless body is not read to its end", async () => {
    const found = await probe({ path: "/endless", expect_body: "chunk" });
    expect(found.status).toBe("up");
    const missing = await probe({ path: "/endless", expect_body: "needle" });
    expect(missing).toMatchObject({ status: "down", detail: 'HTTP 200 from /endless, body lacks "needle"' });
  });
});

describe("http probe: failures", () => {
  test("connection refused is down", async () => {
    const result = await probe({}, { port: closedTcpPort() });
    expect(result).toMatchObject({ status: "down", detail: "connect refused" });
  });

  test("a server that accepts and never answers times out, and the connection is closed", async () => {
    const silent = countingTcpServer();
    try {
      const started = performance.now();
      const result = await probe({}, { port: silent.port, timeout: 300 });
      expect(result).toMatchObject({ status: "down", detail: "timeout after 300 ms" });
      expect(performance.now() - started).toBeLessThan(1500);
      await waitFor("the probe's connection to close", () => silent.accepted === 1 && silent.open === 0, 2000);
    } finally {
      silent.stop();
    }
  });

  test("a reply that is not HTTP is down", async () => {
    const liar = countingTcpServer({ reply: () => "SSH-2.0-OpenSSH\r\n\r\n" });
    try {
      expect(await probe({}, { port: liar.port })).toMatchObject({ status: "down", detail: "malformed HTTP response: no HTTP status line" });
    } finally {
      liar.stop();
    }
  });
});

test("a server that closes before answering is down, and a body cut short of its length too", async () => {
  const hangUp = countingTcpServer({ reply: () => "" , closeAfterReply: true });
  const short = countingTcpServer({ reply: () => "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closeAfterReply: true });
  try {
    expect(await probe({}, { port: hangUp.port })).toMatchObject({ status: "down", detail: "closed before the response" });
    expect(await probe({}, { port: short.port })).toMatchObject({ status: "up" }); // the status alone decides
    expect(await probe({ expect_body: "xyz" }, { port: short.port })).toMatchObject({
      status: "down",
      detail: 'HTTP 200 from /health, body cut short',
    });
  } finally {
    hangUp.stop();
    short.stop();
  }
});

test("POST and PUT say their empty body's length; path and Host go out as configured", async () => {
  const seen: string[] = [];
  const recorder = countingTcpServer({
    reply: (received) => (received.includes("\r\n\r\n") ? (seen.push(received), "HTTP/1.1 204 No Content\r\n\r\n") : undefined),
  });
  try {
    expect(await probe({ method: "POST", path: "/ping?x=1", host: "app.example:8080" }, { port: recorder.port })).toMatchObject({ status: "up" });
    expect(seen[0]).toStartWith("POST /ping?x=1 HTTP/1.1\r\nHost: app.example:8080\r\n");
    expect(seen[0]).toContain("\r\nContent-Length: 0\r\n");
    expect(seen[0]).toContain("\r\nConnection: close\r\n");
  } finally {
    recorder.stop();
  }
});

test("each probe closes its connection, so thousands of probes leave no idle sockets", async () => {
  // The server would keep connections alive; the probe must not.
  const keepAliveServer = countingTcpServer({
    reply: (received) => (received.includes("\r\n\r\n") ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" : undefined),
  });
  try {
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(Array.from({ length: 100 }, () => probe({}, { port: keepAliveServer.port })));
      expect(results.every((r) => r.status === "up")).toBe(true);
    }
    expect(keepAliveServer.accepted).toBe(1000);
    await waitFor("every probe connection to close", () => keepAliveServer.open === 0, 5000);
  } finally {
    keepAliveServer.stop();
  }
});
