// Nothing a client sends may crash the API or corrupt the store: random paths, methods, headers and
// bodies (JSON that almost fits, JSON that does not, bytes that are not JSON) against every route.

import { afterAll, expect, test } from "bun:test";
import { apiHarness, TOKEN } from "./harness.ts";

const h = apiHarness();
afterAll(() => h.close());

let seed = 20261122;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const PATHS = [
  "/api/v1/overrides/app/192.0.2.1", "/api/v1/overrides/app.gslb.test/2001:db8::1", "/api/v1/overrides/web/198.51.100.1",
  "/api/v1/overrides/%00/%ff", "/api/v1/overrides/app/..%2f..%2f", "/api/v1/overrides", "/api/v1/reload",
  "/api/v1/events?limit=%27;DROP%20TABLE", "/api/v1/events?since=9999999999999999999", "/api/v1/backends/app/::",
  "/api/v1/resolve?name=" + "a.".repeat(200), "/api/v1/resolve?name=app.gslb.test&type=ANY&client=::1", "/api/v1/audit?before=0",
  "/api/v1/" + "x/".repeat(100), "/api/v1/backends/%E2%82%AC/1.2.3.4",
];
const VALUES = [true, false, null, 0, -1, 1e308, "", " ", "x".repeat(600), "30m", "-5m", "2030-01-01T00:00:00Z", "\u0000", [], {}, [1, 2], { healthy: false }];
const KEYS = ["healthy", "reason", "ttl", "expires_at", "__proto__", "constructor", "healty", ""];

function body(): string {
  switch (Math.floor(random() * 4)) {
    case 0: {
      const fields: Record<string, unknown> = { healthy: pick([true, false]), reason: "fuzz" };
      for (let i = Math.floor(random() * 3); i > 0; i--) fields[pick(KEYS)] = pick(VALUES);
      return JSON.stringify(fields);
    }
    case 1:
      return JSON.stringify(pick(VALUES));
    case 2:
      return `{"healthy": ${pick(["false", "tru", "0", "{"])}, "reason": "${pick(["x", "\\ud800", "\\u0000"])}"`;
    default:
      return String.fromCharCode(...Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
  }
}

test("2,000 random requests: no 500, every reply is JSON with an error or a result, and the store stays whole", async () => {
  const statuses = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const method = pick(["GET", "PUT", "DELETE", "POST", "PATCH", "HEAD"]);
    const headers: Record<string, string> = { "content-type": pick(["application/json", "application/json; charset=utf-8", "text/plain", ""]) };
    if (random() < 0.8) headers.authorization = pick([`Bearer ${TOKEN}`, "Bearer", "Basic abc", `bearer ${TOKEN} `]);
    const init: RequestInit = { method, headers };
    if (method !== "GET" && method !== "HEAD") init.body = body();
    const r = await h.app.request(pick(PATHS), init, { clientAddress: pick(["127.0.0.1", "::1", "10.0.0.1"]) });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect(r.status).toBeLessThan(500);
    if (method !== "HEAD" && r.status !== 200) expect(typeof ((await r.json()) as { error?: unknown }).error).toBe("string");
  }
  // The store answers, and what it holds is what the engine holds.
  const stored = h.store.overrides.active(h.clock.now()).map((o) => `${o.service} ${o.address}`).sort();
  expect(stored).toEqual(h.health.overrides().map((o) => `${o.service} ${o.address}`).sort());
  expect(h.store.db.prepare<{ integrity_check: string }>("PRAGMA integrity_check").get()!.integrity_check).toBe("ok");
  const services = await h.call("/api/v1/services");
  expect(services.status).toBe(200);
  // Both the happy and the refusing paths were exercised.
  for (const status of [200, 400, 401, 403, 404, 405]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
});
