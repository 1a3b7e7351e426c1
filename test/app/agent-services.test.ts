import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { withAgentBackends } from "../../src/app/agent-services.ts";
import type { AgentBackend } from "../../src/health/agent-registry.ts";

const config = parseConfig(`
mode: overwatch
gossip: { encryption_key: "${Buffer.alloc(32, 7).toString("base64")}" }
dns: { zones: [gslb.test], default_ttl: 20 }
validation: { check_interval: 10s, check_timeout: 2s }
services:
  - name: web
    policy: weighted
    backends: [{ address: 192.0.2.1 }]
`, { env: {} });

function announced(service: string, address: string, port: number, claim: AgentBackend["claim"] = "healthy"): AgentBackend {
  return { key: `${service}|${address}|${port}`, service, address, port, weight: 50, agentId: "a1", status: "healthy", detail: "ok", bleeding: false, fresh: claim !== "unknown", claim, lastSeen: 0, sentAt: 0 };
}

test("an agent's backend joins the configured service of its name, probed by this node (validation)", () => {
  const view = withAgentBackends(config, new Map([["web", [announced("web", "192.0.2.7", 8080)]]]));
  const web = view.services.find((s) => s.name === "web")!;
  expect(web.policy).toBe("weighted");
  expect(web.backends.map((b) => `${b.address}:${b.port}`)).toEqual(["192.0.2.1:80", "192.0.2.7:8080"]);
  expect(web.backends[1]).toMatchObject({ weight: 50, health_check: { type: "tcp", interval: 10_000, timeout: 2_000, failure_threshold: 3 } });
  expect(view.claims.get("web.gslb.test|192.0.2.7|8080")).toEqual({ claim: "healthy", detail: "ok" });
  // The config itself is left as it was.
  expect(config.services[0]!.backends).toHaveLength(1);
});

test("an unknown service is made under the first zone with the schema's defaults", () => {
  const view = withAgentBackends(config, new Map([["myapp", [announced("myapp", "2001:db8::5", 443, "unknown")]]]));
  const myapp = view.services.find((s) => s.name === "myapp")!;
  expect(myapp).toMatchObject({ fqdn: "myapp.gslb.test", zone: "gslb.test", policy: "roundrobin", ttl: 20, when_all_down: { mode: "fail_open" } });
  expect(myapp.backends[0]).toMatchObject({ address: "2001:db8::5", family: 6, port: 443 });
  expect(view.claims.get("myapp.gslb.test|2001:db8::5|443")!.claim).toBe("unknown");
});

test("with validation off, agent backends carry no check of this node's: the claim decides", () => {
  const off = { ...config, validation: { ...config.validation, enabled: false } };
  const view = withAgentBackends(off, new Map([["web", [announced("web", "192.0.2.8", 80)]]]));
  expect(view.services[0]!.backends[1]!.health_check).toBeUndefined();
});
