import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { httpProbe } from "../../../src/checks/probes/http.ts";
import { waitFor } from "../../helpers/wait.ts";
import { countingTcpServer, runProbe, targetOf, type SettingsOfKind } from "./loopback.ts";

type HttpsSettings = SettingsOfKind<"https">;

const FIXTURES = join(import.meta.dir, "../../fixtures/tls");
// Self-signed for probe.vigil.test: no CA vouches for it.
const tls = { cert: await Bun.file(join(FIXTURES, "cert.pem")).text(), key: await Bun.file(join(FIXTURES, "key.pem")).text() };

const BASE: HttpsSettings = { type: "https", method: "GET", path: "/health", expect_status: [{ from: 200, to: 399 }], tls_verify: false };
const OK_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** The TLS server name each handshake carried (null: none). */
const serverNamesSeen: (string | null)[] = [];
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  tls,
  socket: {
    handshake(socket) {
      serverNamesSeen.push(socket.getServername() || null);
    },
    data(socket, chunk) {
      if (chunk.toString().includes("\r\n\r\n")) socket.write(OK_RESPONSE);
    },
  },
});
afterAll(() => server.stop(true));

const probe = (settings: Partial<HttpsSettings>, port = server.port) => runProbe(httpProbe, targetOf({ ...BASE, ...settings }, port));

describe("https probe: certificate verification", () => {
  test("tls_verify off accepts a self-signed certificate", async () => {
    expect(await probe({ tls_verify: false })).toMatchObject({ status: "up", detail: "HTTP 200 from /health" });
  });

  test("tls_verify on rejects it, even with the certificate's own name as SNI", async () => {
    const result = await probe({ tls_verify: true, sni: "probe.vigil.test" });
    expect(result.status).toBe("down");
    expect(result.detail).toStartWith("TLS certificate rejected: ");
    expect(result.detail).toContain("SELF_SIGNED");
  });

  test("https against a port that does not speak TLS is down", async () => {
    const plain = countingTcpServer({ reply: () => "HTTP/1.1 400 Bad Request\r\n\r\n" });
    try {
      expect(await probe({}, plain.port)).toMatchObject({ status: "down", detail: "TLS handshake failed" });
    } finally {
      plain.stop();
    }
  });
});

describe("https probe: server name (SNI)", () => {
  test("sni reaches the server when connecting by IP", async () => {
    serverNamesSeen.length = 0;
    expect((await probe({ sni: "probe.vigil.test" })).status).toBe("up");
    expect(serverNamesSeen).toEqual(["probe.vigil.test"]);
  });

  test("without sni the Host header's name is sent, without its port; sni wins over it", async () => {
    serverNamesSeen.length = 0;
    await probe({ host: "app.example.com:8443" });
    await probe({ host: "app.example.com", sni: "probe.vigil.test" });
    expect(serverNamesSeen).toEqual(["app.example.com", "probe.vigil.test"]);
  });

  test("no server name is sent for an address alone", async () => {
    serverNamesSeen.length = 0;
    await probe({});
    await probe({ host: "127.0.0.1" });
    expect(serverNamesSeen).toEqual([null, null]);
  });
});

test("https probes close their connections too", async () => {
  const keepAliveServer = countingTcpServer({ reply: (received) => (received.includes("\r\n\r\n") ? OK_RESPONSE : undefined), tls });
  try {
    const results = await Promise.all(Array.from({ length: 100 }, () => probe({}, keepAliveServer.port)));
    expect(results.every((r) => r.status === "up")).toBe(true);
    expect(keepAliveServer.accepted).toBe(100);
    await waitFor("every probe connection to close", () => keepAliveServer.open === 0, 5000);
  } finally {
    keepAliveServer.stop();
  }
});
