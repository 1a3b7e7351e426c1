import { afterEach, describe, expect, test } from "bun:test";
import { apiHarness, TOKEN, type Harness } from "./harness.ts";
import { DiskFullError } from "../../src/store/disk-full.ts";

let h: Harness;
afterEach(() => h?.close());

const json = async (r: Response) => (await r.json()) as Record<string, any>;
const put = (path: string, body: unknown, auth = true) => h.call(path, { method: "PUT", body: JSON.stringify(body), auth });

/** The A addresses vigil would answer for app.gslb.test right now. */
async function answered(): Promise<string[]> {
  const body = await json(await h.call("/api/v1/resolve?name=app.gslb.test&type=A"));
  return body.answers.map((a: { data: string }) => a.data).sort();
}

describe("access", () => {
  test("loopback clients are served, including IPv4-mapped IPv6; others and unknown clients get 403", async () => {
    h = apiHarness();
    for (const from of ["127.0.0.1", "::ffff:127.0.0.1", "::1"]) expect((await h.call("/api/v1/health", { from })).status).toBe(200);
    const refused = await h.call("/api/v1/health", { from: "192.0.2.9" });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error).toContain("api.allowed_networks");
    expect((await h.call("/api/v1/health", { from: "" })).status).toBe(403);
  });

  test("a write without the token, or with a wrong one, is 401 and changes nothing", async () => {
    h = apiHarness();
    const path = "/api/v1/overrides/app/192.0.2.1";
    const none = await put(path, { healthy: false, reason: "x" }, false);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="vigil"');
    const wrong = await h.call(path, { method: "PUT", body: '{"healthy":false,"reason":"x"}', headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(h.health.overrides()).toEqual([]);
    expect((await put(path, { healthy: false, reason: "x" })).status).toBe(200);
  });

  test("reads need no token; read_only refuses every write", async () => {
    h = apiHarness(undefined);
    expect((await h.call("/api/v1/overrides")).status).toBe(200);
    h.close();
    h = apiHarness(undefined, { access: { token: TOKEN, readOnly: true } });
    const r = await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "x" });
    expect(r.status).toBe(403);
    expect((await json(r)).error).toContain("read-only");
  });

  test("unknown routes are 404; a known path with another method is 405 with Allow", async () => {
    h = apiHarness();
    const missing = await h.call("/api/v1/nope");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toBe("no route /api/v1/nope");
    const wrong = await h.call("/api/v1/overrides/app/192.0.2.1", { method: "POST", auth: true, body: "{}" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("DELETE, GET, PUT");
    expect((await h.call("/api/v1/services", { method: "DELETE", auth: true })).status).toBe(405);
  });
});

describe("overrides", () => {
  test("PUT takes the address out of the answers at once, DELETE puts it back; GET lists them", async () => {
    h = apiHarness();
    expect(await answered()).toEqual(["192.0.2.1", "192.0.2.2"]);
    const r = await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "High latency from CloudWatch" });
    expect(r.status).toBe(200);
    expect((await json(r)).override).toMatchObject({ service: "app.gslb.test", address: "192.0.2.1", healthy: false, expires_at: null });
    expect(await answered()).toEqual(["192.0.2.2"]);
    const list = await json(await h.call("/api/v1/overrides"));
    expect(list.overrides).toHaveLength(1);
    expect(list.overrides[0].reason).toBe("High latency from CloudWatch");
    const one = await json(await h.call("/api/v1/overrides/app.gslb.test./192.0.2.1"));
    expect(one.override.address).toBe("192.0.2.1");
    expect((await h.call("/api/v1/overrides/app/192.0.2.1", { method: "DELETE", auth: true })).status).toBe(200);
    expect(await answered()).toEqual(["192.0.2.1", "192.0.2.2"]);
    expect((await h.call("/api/v1/overrides/app/192.0.2.1", { method: "DELETE", auth: true })).status).toBe(404);
  });

  test("an IPv6 address is matched in any spelling; a ttl expires the override on the clock", async () => {
    h = apiHarness();
    expect((await put("/api/v1/overrides/app/2001:DB8:0::1", { healthy: false, reason: "maintenance", ttl: "10m" })).status).toBe(200);
    expect(h.health.view().find((b) => b.address === "2001:db8::1")!.state).toBe("down");
    h.clock.advance(10 * 60_000 + 10);
    expect(h.health.view().find((b) => b.address === "2001:db8::1")!.state).toBe("up");
    expect((await json(await h.call("/api/v1/overrides"))).overrides).toEqual([]);
  });

  test("overrides are stored: a new engine on the same store starts with them", async () => {
    h = apiHarness();
    await put("/api/v1/overrides/web/198.51.100.1", { healthy: false, reason: "decommissioning" });
    const { HealthEngine } = await import("../../src/health/engine.ts");
    const { HealthBoard } = await import("../../src/health/board.ts");
    const { createLogger } = await import("../../src/lib/log.ts");
    const engine = new HealthEngine({
      clock: h.clock,
      board: new HealthBoard(h.clock),
      history: h.store.history,
      overrides: h.store.overrides,
      log: createLogger({ level: "error", format: "json" }, { write() {} }),
    });
    engine.configure(h.config.services, () => false);
    expect(engine.view().find((b) => b.address === "198.51.100.1")).toMatchObject({ state: "down" });
    engine.close();
  });

  const badBodies: [string, string, number, string | undefined][] = [
    ["not JSON", "{healthy: false", 400, "body"],
    ["an array", "[]", 400, "body"],
    ["healthy missing", '{"reason":"x"}', 400, "healthy"],
    ["healthy a string", '{"healthy":"false","reason":"x"}', 400, "healthy"],
    ["reason missing", '{"healthy":false}', 400, "reason"],
    ["reason empty", '{"healthy":false,"reason":"  "}', 400, "reason"],
    ["reason too long", JSON.stringify({ healthy: false, reason: "x".repeat(501) }), 400, "reason"],
    ["reason with a newline", '{"healthy":false,"reason":"a\\nb"}', 400, "reason"],
    ["a typo'd field", '{"healthy":false,"reason":"x","healty":true}', 400, "healty"],
    ["ttl and expires_at", '{"healthy":false,"reason":"x","ttl":"1m","expires_at":"2030-01-01T00:00:00Z"}', 400, "ttl"],
    ["a bad ttl", '{"healthy":false,"reason":"x","ttl":"soon"}', 400, "ttl"],
    ["expires_at in the past", '{"healthy":false,"reason":"x","expires_at":"2020-01-01T00:00:00Z"}', 400, "expires_at"],
    ["expires_at not a time", '{"healthy":false,"reason":"x","expires_at":"tomorrow"}', 400, "expires_at"],
  ];
  for (const [what, body, status, field] of badBodies) {
    test(`a body with ${what} is ${status}, naming ${field}, and changes nothing`, async () => {
      h = apiHarness();
      const r = await h.call("/api/v1/overrides/app/192.0.2.1", { method: "PUT", body, auth: true });
      expect(r.status).toBe(status);
      const error = await json(r);
      expect(error.field).toBe(field);
      expect(error.error).toStartWith(`${field}: `);
      expect(h.health.overrides()).toEqual([]);
    });
  }

  test("wrong content type is 415; a body over 64 KiB is 413", async () => {
    h = apiHarness();
    const text = await h.call("/api/v1/overrides/app/192.0.2.1", { method: "PUT", body: "healthy=false", headers: { "content-type": "text/plain" }, auth: true });
    expect(text.status).toBe(415);
    const big = await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "x", pad: "y".repeat(70_000) });
    expect(big.status).toBe(413);
    expect(h.health.overrides()).toEqual([]);
  });

  test("an unknown service or backend is 404; a malformed address is 400", async () => {
    h = apiHarness();
    expect((await put("/api/v1/overrides/nope/192.0.2.1", { healthy: false, reason: "x" })).status).toBe(404);
    expect((await put("/api/v1/overrides/app/192.0.2.99", { healthy: false, reason: "x" })).status).toBe(404);
    const bad = await put("/api/v1/overrides/app/not-an-ip", { healthy: false, reason: "x" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).field).toBe("address");
  });

  test("a full disk is 507, and the override neither applies nor half-applies", async () => {
    h = apiHarness();
    const pages = h.store.db.prepare<{ page_count: number }>("PRAGMA page_count").get()!.page_count;
    h.store.db.exec(`PRAGMA max_page_count = ${pages}`);
    // Fill the overrides table's pages (rows for another service), so one more row cannot fit.
    expect(() => {
      for (let i = 0; i < 10_000; i++) h.store.overrides.set({ service: "filler.gslb.test", address: `10.0.${i >> 8}.${i & 255}`, healthy: false, reason: "z".repeat(400), createdAt: 0 });
    }).toThrow(DiskFullError);
    const r = await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "x".repeat(400) });
    expect(r.status).toBe(507);
    expect((await json(r)).error).toContain("disk full");
    expect(h.health.overrides()).toEqual([]);
    expect(await answered()).toEqual(["192.0.2.1", "192.0.2.2"]);
  });
});

describe("audit", () => {
  test("every write is recorded with its client and outcome, refused ones too, newest first", async () => {
    h = apiHarness();
    await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "drain" }, false);
    await put("/api/v1/overrides/app/192.0.2.1", { healthy: false, reason: "drain" });
    await h.call("/api/v1/overrides/app/192.0.2.1", { method: "DELETE", auth: true, from: "::1" });
    await h.call("/api/v1/reload", { method: "POST", auth: true });
    await h.call("/api/v1/services");
    const { entries } = await json(await h.call("/api/v1/audit"));
    expect(entries.map((e: any) => [e.method, e.status, e.client])).toEqual([
      ["POST", 200, "127.0.0.1"],
      ["DELETE", 200, "::1"],
      ["PUT", 200, "127.0.0.1"],
      ["PUT", 401, "127.0.0.1"],
    ]);
    expect(entries[2].summary).toBe("app.gslb.test 192.0.2.1 healthy=false: drain");
    expect(entries[3].summary).toStartWith("refused: unauthorized");
    expect(entries[0].route).toBe("/api/v1/reload");
    expect(JSON.stringify(entries)).not.toContain(TOKEN);
  });
});

describe("health views and events", () => {
  test("/backends, /backends/healthy and one backend with its inputs and recent events", async () => {
    h = apiHarness();
    h.health.setVerdict("app.gslb.test", "192.0.2.1", 80, "down", "connect refused");
    h.health.setVerdict("app.gslb.test", "192.0.2.2", 80, "up", "connected");
    const all = await json(await h.call("/api/v1/backends"));
    expect(all.backends).toHaveLength(4);
    const healthy = await json(await h.call("/api/v1/backends/healthy"));
    expect(healthy.backends.map((b: any) => b.address).sort()).toEqual(["198.51.100.1", "192.0.2.2", "2001:db8::1"].sort());
    const one = await json(await h.call("/api/v1/backends/app/192.0.2.1"));
    expect(one.backends[0]).toMatchObject({ state: "down", inputs: { override: null, agent_claim: null, own_verdict: { verdict: "down", detail: "connect refused" }, peer_verdicts: [] } });
    expect(one.events[0]).toMatchObject({ from: "up", to: "down", address: "192.0.2.1", port: 80 });
    expect((await h.call("/api/v1/backends/app/10.9.9.9")).status).toBe(404);
  });

  test("/events pages forward with next, newest first with order=desc, and filters by service and time", async () => {
    h = apiHarness();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      h.health.setVerdict("app.gslb.test", "192.0.2.1", 80, i % 2 === 0 ? "down" : "up", `flip ${i}`);
    }
    const first = await json(await h.call("/api/v1/events?limit=2"));
    expect(first.events.map((e: any) => e.detail)).toEqual(["flip 0", "flip 1"]);
    const second = await json(await h.call(first.next));
    expect(second.events.map((e: any) => e.detail)).toEqual(["flip 2", "flip 3"]);
    const newest = await json(await h.call("/api/v1/events?order=desc&limit=1"));
    expect(newest.events[0].detail).toBe("flip 4");
    const since = new Date(h.clock.now() - 1500).toISOString();
    expect((await json(await h.call(`/api/v1/events?since=${since}`))).events.map((e: any) => e.detail)).toEqual(["flip 3", "flip 4"]);
    expect((await json(await h.call("/api/v1/events?service=web"))).events).toEqual([]);
    for (const bad of ["limit=0", "limit=5000", "limit=x", "order=sideways", "since=yesterday", "after=-1"]) {
      const r = await h.call(`/api/v1/events?${bad}`);
      expect(r.status).toBe(400);
      expect((await json(r)).field).toBe(bad.split("=")[0]);
    }
  });

  test("/ready is 503 until every checked backend has a verdict", async () => {
    h = apiHarness();
    const before = await h.call("/api/v1/ready");
    expect(before.status).toBe(503);
    expect(await json(before)).toEqual({ ready: false, zones_loaded: true, probes: { targets: 3 } });
    for (const address of ["192.0.2.1", "192.0.2.2", "2001:db8::1"]) h.health.setVerdict("app.gslb.test", address, 80, "up", "ok");
    expect((await h.call("/api/v1/ready")).status).toBe(200);
  });
});

describe("resolve, config, reload", () => {
  test("/resolve answers as DNS would, with each backend's part in it", async () => {
    h = apiHarness();
    h.health.setVerdict("app.gslb.test", "192.0.2.2", 80, "down", "connect refused");
    const body = await json(await h.call("/api/v1/resolve?name=app.gslb.test&type=A&client=203.0.113.7"));
    expect(body).toMatchObject({ query: { name: "app.gslb.test", type: "A", client: "203.0.113.7" }, rcode: "NOERROR", authoritative: true });
    expect(body.answers).toEqual([{ name: "app.gslb.test", type: "A", ttl: 30, data: "192.0.2.1" }]);
    const backends = body.services[0].backends.map((b: any) => [b.address, b.state, b.in_answer]);
    expect(backends).toEqual([["192.0.2.1", "up", true], ["192.0.2.2", "down", false], ["2001:db8::1", "up", false]]);
    const nx = await json(await h.call("/api/v1/resolve?name=nope.gslb.test"));
    expect(nx.rcode).toBe("NXDOMAIN");
    expect(nx.authority[0].type).toBe("SOA");
    expect((await json(await h.call("/api/v1/resolve?name=example.org"))).rcode).toBe("REFUSED");
    for (const [query, field] of [["name=", "name"], ["name=a.gslb.test&type=BOGUS", "type"], ["name=a.gslb.test&client=1.2.3", "client"], ["name=bad%20name", "name"]]) {
      const r = await h.call(`/api/v1/resolve?${query}`);
      expect(r.status).toBe(400);
      expect((await json(r)).field).toBe(field);
    }
  });

  test("/config shows the running config with every secret redacted", async () => {
    h = apiHarness();
    const config = await json(await h.call("/api/v1/config"));
    expect(config.api.token).toBe("<redacted>");
    expect(config.services[0].fqdn).toBe("app.gslb.test");
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  test("POST /reload runs a reload; one that fails is 422 with its error", async () => {
    h = apiHarness();
    expect((await h.call("/api/v1/reload", { method: "POST", auth: true })).status).toBe(200);
    expect(h.reloads).toBe(1);
    h.close();
    h = apiHarness(undefined, { reload: async () => ({ ok: false, error: "dns.zones (line 3): expected a list" }) });
    const r = await h.call("/api/v1/reload", { method: "POST", auth: true });
    expect(r.status).toBe(422);
    expect(await json(r)).toEqual({ ok: false, error: "dns.zones (line 3): expected a list" });
  });
});
