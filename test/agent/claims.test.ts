import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentBackendConfig } from "../../src/config/types.ts";
import { decodeClaim } from "../../src/cluster/claims.ts";
import { loadOrCreateIdentity } from "../../src/agent/identity.ts";
import { AgentClaims, claimContents, type AgentView, type BackendStatus } from "../../src/agent/claims.ts";
import { agentServices } from "../../src/agent/services.ts";

const AGENT = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
const who = { agentId: AGENT, token: "secret", region: "us-east" };

const b = (service: string, port: number, extra: Partial<AgentBackendConfig> = {}): AgentBackendConfig => ({ service, address: "10.0.0.5", port, weight: 100, ...extra });

function view(backends: AgentBackendConfig[], status: Record<number, BackendStatus | undefined>, bleeding: Record<number, string> = {}): AgentView {
  return { backends, status: (x) => status[x.port], bleeding: (x) => bleeding[x.port] };
}

describe("claimContents", () => {
  test("one claim per service; verdicts become statuses; bleeding is draining; unchecked backends wait", () => {
    const backends = [b("web", 80), b("web", 81, { region: "us-west" }), b("web", 82), b("api", 9000, { region: "us-east" }), b("api", 9001)];
    const claims = claimContents(
      view(backends, { 80: { up: true, detail: "HTTP 200" }, 81: { up: false, detail: "connect refused" }, 82: undefined, 9000: { up: true, detail: "ok" }, 9001: { up: false, detail: "timeout" } }, { 9000: "cpu 97% > 85%" }),
      who,
      [],
      7,
      1_000,
    );
    expect(claims.map((c) => [c.service, c.seq, c.time, c.token, c.region, c.agentId])).toEqual([
      ["web", 7, 1_000, "secret", "us-east", AGENT],
      ["api", 7, 1_000, "secret", "us-east", AGENT],
    ]);
    expect(claims[0]!.backends).toEqual([
      { address: "10.0.0.5", port: 80, weight: 100, status: "healthy", detail: "HTTP 200" },
      { address: "10.0.0.5", port: 81, weight: 100, status: "unhealthy", detail: "connect refused", region: "us-west" },
    ]);
    // A region equal to the claim's is not repeated; bleeding wins over a probe's verdict either way.
    expect(claims[1]!.backends).toEqual([
      { address: "10.0.0.5", port: 9000, weight: 100, status: "draining", detail: "bleeding: cpu 97% > 85%", bleeding: true },
      { address: "10.0.0.5", port: 9001, weight: 100, status: "unhealthy", detail: "timeout" },
    ]);
  });

  test("a service announced before and gone from the config is claimed empty", () => {
    const claims = claimContents(view([b("web", 80)], { 80: { up: true, detail: "ok" } }), who, ["web", "old"], 1, 1);
    expect(claims.map((c) => [c.service, c.backends.length])).toEqual([["web", 1], ["old", 0]]);
  });
});

describe("AgentClaims", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-claims-"));
  const { identity } = loadOrCreateIdentity(dir);
  const claims = new AgentClaims(identity, { ...who, agentId: identity.agentId });

  test("signs claims the overwatch decodes, under the agent's own key, and remembers announced services", () => {
    const first = claims.sign(view([b("web", 80), b("api", 9000)], { 80: { up: true, detail: "ok" }, 9000: { up: false, detail: "down" } }), 5, 10, 1_200);
    expect(first.map((c) => c.key)).toEqual(["claim:web:0", "claim:api:0"]);
    const decoded = first.map((c) => decodeClaim(c.payload));
    for (const d of decoded) {
      if (!d.ok) throw new Error(`not decodable: ${d.reason} ${d.detail}`);
      expect(d.claim.publicKey).toEqual(identity.publicKey);
      expect(d.claim).toMatchObject({ agentId: identity.agentId, token: "secret", region: "us-east", seq: 5, part: 0, parts: 1 });
    }
    const second = claims.sign(view([b("web", 80)], { 80: { up: true, detail: "ok" } }), 6, 11, 1_200);
    const api = decodeClaim(second[1]!.payload);
    expect(api.ok && [api.claim.service, api.claim.backends.length]).toEqual(["api", 0]);
  });

  test("a backend that could never be claimed is caught before the config is taken", () => {
    expect(() => claims.check([b("web", 80)], 1_200)).not.toThrow();
    expect(() => claims.check([b("web", 80, { region: "r".repeat(300) })], 1_200)).toThrow("claim backend region");
    rmSync(dir, { recursive: true, force: true });
  });
});

test("agent backends group into one service each, with nothing to bend the verdicts", () => {
  const services = agentServices([b("web", 80, { health_check: { type: "tcp", interval: 5_000, timeout: 1_000, failure_threshold: 2, success_threshold: 1 } }), b("api", 9000), b("web", 81)]);
  expect(services.map((s) => [s.fqdn, s.backends.map((x) => x.port)])).toEqual([["web", [80, 81]], ["api", [9000]]]);
  expect(services[0]!.flap_damping.max_changes).toBe(0);
  expect(services[0]!.min_healthy).toBeUndefined();
  expect(services[0]!.backends[0]!.health_check?.type).toBe("tcp");
  expect(services[0]!.backends[1]!.health_check).toBeUndefined();
});
