import { describe, expect, test } from "bun:test";
import { buildApi, type ApiDeps } from "../../src/api/app.ts";
import type { BackendView } from "../../src/health/engine.ts";

const backend: BackendView = {
  service: "app.t.test",
  address: "192.0.2.1",
  port: 80,
  state: "down",
  reason: "probe: connect refused",
  since: Date.UTC(2026, 10, 22),
  verdict: "down",
  verdictDetail: "connect refused",
  watched: true,
  recentChanges: 1,
};

function api(overrides: Partial<ApiDeps> = {}) {
  return buildApi({
    allowedNetworks: ["127.0.0.0/8", "::1/128"],
    ready: () => true,
    probeStats: () => ({ targets: 1 }),
    backends: () => [backend],
    services: () => [{ fqdn: "app.t.test", policy: "roundrobin", ttl: 30 }],
    version: "test",
    ...overrides,
  });
}

const from = (clientAddress: string) => ({ clientAddress });

describe("API access", () => {
  test("loopback clients are served, including IPv4-mapped IPv6", async () => {
    expect((await api().request("/api/v1/health", {}, from("127.0.0.1"))).status).toBe(200);
    expect((await api().request("/api/v1/health", {}, from("::ffff:127.0.0.1"))).status).toBe(200);
    expect((await api().request("/api/v1/health", {}, from("::1"))).status).toBe(200);
  });

  test("a client outside api.allowed_networks is refused, and so is an unknown one", async () => {
    const refused = await api().request("/api/v1/health", {}, from("192.0.2.9"));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain("api.allowed_networks");
    expect((await api().request("/api/v1/health", {}, {})).status).toBe(403);
  });

  test("unknown routes are 404 with the route named", async () => {
    const r = await api().request("/api/v1/nope", {}, from("127.0.0.1"));
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toBe("no route GET /api/v1/nope");
  });
});

describe("API routes", () => {
  test("/ready is 503 until the first probe round is done, with the probe figures", async () => {
    const r = await api({ ready: () => false }).request("/api/v1/ready", {}, from("127.0.0.1"));
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ready: false, probes: { targets: 1 } });
  });

  test("/services lists each service's backends with state, reason and last change", async () => {
    const r = await api().request("/api/v1/services", {}, from("127.0.0.1"));
    const body = (await r.json()) as { services: { fqdn: string; backends: Record<string, unknown>[] }[] };
    expect(body.services[0]!.fqdn).toBe("app.t.test");
    expect(body.services[0]!.backends[0]).toMatchObject({
      address: "192.0.2.1",
      state: "down",
      reason: "probe: connect refused",
      since: "2026-11-22T00:00:00.000Z",
      override: null,
    });
  });
});
