import { describe, expect, test } from "bun:test";
import { tcpProbe } from "../../../src/checks/probes/tcp.ts";
import { waitFor } from "../../helpers/wait.ts";
import { closedTcpPort, countingTcpServer, runProbe, targetOf, type CountingServer } from "./loopback.ts";

type TcpSettings = { send?: string; expect?: string };

const probe = (settings: TcpSettings, port: number, timeout = 2000) =>
  runProbe(tcpProbe, targetOf({ type: "tcp", ...settings }, port, { timeout }));

/** Runs the body against a server, then checks the probe left no connection open. */
async function withServer(reply: (received: string) => string | undefined, body: (server: CountingServer) => Promise<void>) {
  const server = countingTcpServer({ reply });
  try {
    await body(server);
    await waitFor("the probe's socket to close", () => server.accepted > 0 && server.open === 0, 2000);
  } finally {
    server.stop();
  }
}

describe("tcp probe: connect", () => {
  test("an open port is up, and the socket is closed afterwards", async () => {
    await withServer(() => undefined, async (server) => {
      expect(await probe({}, server.port)).toMatchObject({ status: "up", detail: "connected" });
    });
  });

  test("a refused connection is down", async () => {
    expect(await probe({}, closedTcpPort())).toMatchObject({ status: "down", detail: "connect refused" });
  });

  test("reaches an IPv6 address", async () => {
    const listener = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    try {
      const result = await runProbe(tcpProbe, targetOf({ type: "tcp" }, listener.port, { address: "::1" }));
      expect(result.status).toBe("up");
    } finally {
      listener.stop(true);
    }
  });
});

describe("tcp probe: send and expect", () => {
  test("sends the bytes with \\r\\n escapes decoded, and finds the expected reply", async () => {
    const received: string[] = [];
    const redis = (text: string) => {
      received.push(text);
      return text === "PING\r\n" ? "+PONG\r\n" : "-ERR unknown\r\n";
    };
    await withServer(redis, async (server) => {
      expect(await probe({ send: "PING\\r\\n", expect: "+PONG" }, server.port)).toMatchObject({ status: "up", detail: 'received "+PONG"' });
    });
    expect(received).toEqual(["PING\r\n"]);
  });

  test("waits for a banner when there is nothing to send", async () => {
    const smtp = countingTcpServer({ greeting: "220 mail ready\r\n" });
    try {
      expect((await probe({ expect: "220 " }, smtp.port)).status).toBe("up");
    } finally {
      smtp.stop();
    }
  });

  test("a different reply followed by a close is down, quoting what came", async () => {
    const closer = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data: (socket) => void socket.end("-ERR unknown command\r\n") },
    });
    try {
      const result = await probe({ send: "PING\\n", expect: "+PONG" }, closer.port);
      expect(result).toMatchObject({ status: "down", detail: 'closed before "+PONG" arrived; got "-ERR unknown command"' });
    } finally {
      closer.stop(true);
    }
  });

  test("a different reply on a connection left open times out, and the socket is closed", async () => {
    await withServer(() => "-ERR unknown\r\n", async (server) => {
      const started = performance.now();
      const result = await probe({ send: "PING\\r\\n", expect: "+PONG" }, server.port, 300);
      expect(result).toMatchObject({ status: "down", detail: "timeout after 300 ms" });
      expect(performance.now() - started).toBeLessThan(1500);
    });
  });

  test("a server that says nothing times out when a reply is expected", async () => {
    await withServer(() => undefined, async (server) => {
      expect(await probe({ expect: "hello" }, server.port, 300)).toMatchObject({ status: "down", detail: "timeout after 300 ms" });
    });
  });
});

test("probes close with a reset, so no connection lingers in TIME_WAIT on either side", async () => {
  await withServer(() => undefined, async (server) => {
    const results = await Promise.all(Array.from({ length: 50 }, () => probe({}, server.port)));
    expect(results.every((r) => r.status === "up")).toBe(true);
    await waitFor("the server to see every close", () => server.open === 0, 2000);
    const lingering = Bun.spawnSync(["ss", "-Htan", "state", "time-wait", `( sport = :${server.port} or dport = :${server.port} )`]);
    expect(lingering.exitCode).toBe(0);
    expect(lingering.stdout.toString().trim()).toBe("");
  });
});
