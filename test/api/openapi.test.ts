import { afterAll, expect, test } from "bun:test";
import { dnssecRoutes } from "../../src/api/dnssec-routes.ts";
import { clusterRoutes } from "../../src/api/cluster-routes.ts";
import { agentRoutes } from "../../src/api/agent-routes.ts";
import { ROUTES } from "../../src/api/openapi.ts";
import { apiHarness } from "./harness.ts";

const h = apiHarness(undefined, {
  mount: [clusterRoutes(() => undefined), agentRoutes(() => undefined, () => 0), dnssecRoutes({ keyring: undefined, sync: undefined, token: undefined, now: () => 0 })],
});
afterAll(() => h.close());

test("/openapi.json describes exactly the routes the app has", async () => {
  const served = new Set(
    h.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  const described = new Set(ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`));
  expect([...served].sort()).toEqual([...described].sort());

  const doc = (await (await h.call("/api/v1/openapi.json")).json()) as { openapi: string; paths: Record<string, Record<string, any>> };
  expect(doc.openapi).toBe("3.1.0");
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(documented.sort()).toEqual([...described].sort());
  // Every path parameter is declared, and writes name the bearer scheme.
  const put = doc.paths["/api/v1/overrides/{service}/{address}"]!.put;
  expect(put.parameters.filter((p: any) => p.in === "path").map((p: any) => p.name)).toEqual(["service", "address"]);
  expect(put.security).toEqual([{ bearer: [] }]);
  expect(put.requestBody.content["application/json"].schema.required).toEqual(["healthy", "reason"]);
});
