// An AgentNode in-process beside an in-process gossip member playing the overwatch, on loopback, with
// one real TCP backend: the overwatch comes up after the agent (which finds it by itself), then hears
// signed claims that follow the backend's health, its predictive signal and a reload.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { AgentNode } from "../../src/app/agent-node.ts";
import { parseConfig } from "../../src/config/load.ts";
import { decodeClaim, isClaimPayload, type Claim } from "../../src/cluster/claims.ts";
import { Keyring } from "../../src/cluster/keyring.ts";
import { Membership } from "../../src/cluster/membership.ts";
import { NetTransport } from "../../src/cluster/net-transport.ts";
import { systemClock } from "../../src/lib/clock.ts";
import type { HostReadings } from "../../src/agent/host-load.ts";
import { waitFor } from "../helpers/wait.ts";

const KEY = randomBytes(32).toString("base64");
const BACKEND_HOST = "127.0.0.61";
const OVERWATCH_HOST = "127.0.0.62";
const dir = mkdtempSync(join(tmpdir(), "vigil-agent-"));
const host: { now: HostReadings } = { now: { cpuPercent: 10, memoryPercent: 10 } };
const claims: Claim[] = [];
const logs: { msg: string; [key: string]: unknown }[] = [];
let backend: TCPSocketListener | undefined;
let overwatch: Membership | undefined;
let overwatchAddress = "";
let agent: AgentNode;
let yaml = "";

function config(extraBackend = ""): string {
  return `
mode: agent
identity: { node_id: test-agent, service_token: tok, region: us-east }
backends:
  - service: myapp
    address: ${BACKEND_HOST}
    port: ${backend!.port}
    health_check: { type: tcp, interval: 200ms, timeout: 150ms, failure_threshold: 1, success_threshold: 1 }
    predictive: { enabled: true, check_interval: 200ms }
${extraBackend}
gossip:
  encryption_key: "${KEY}"
  overwatch_nodes: ["${overwatchAddress}"]
heartbeat: { interval: 1s }
data_dir: ${dir}/data
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
`;
}

async function startOverwatch(): Promise<Membership> {
  const transport = await NetTransport.listen({ bindAddress: overwatchAddress });
  const node = new Membership({ name: "ow-test", meta: { role: "overwatch", region: "" }, transport, keyring: Keyring.fromBase64(KEY, []), clock: systemClock });
  node.onMessage(({ payload }) => {
    if (!isClaimPayload(payload)) return;
    const decoded = decodeClaim(payload);
    if (!decoded.ok) throw new Error(`undecodable claim: ${decoded.reason} ${decoded.detail}`);
    claims.push(decoded.claim);
  });
  node.start();
  return node;
}

/** The newest claim for myapp, once `match` holds for it. */
function claimWhere(what: string, match: (claim: Claim) => boolean, timeoutMs = 5_000): Promise<Claim> {
  return waitFor(what, () => {
    const latest = claims.filter((c) => c.service === "myapp").at(-1);
    return latest && match(latest) ? latest : undefined;
  }, timeoutMs);
}

beforeAll(async () => {
  backend = Bun.listen({ hostname: BACKEND_HOST, port: 0, socket: { data: (socket) => void socket.end(), error() {} } });
  // The overwatch's address is known before it exists: the agent starts first and must find it.
  const reserved = await NetTransport.listen({ bindAddress: `${OVERWATCH_HOST}:0` });
  overwatchAddress = reserved.localAddress;
  await reserved.close();
  yaml = config();
  agent = await AgentNode.start(() => parseConfig(yaml, { env: {} }), {
    logSink: { write: (line) => logs.push(JSON.parse(line)) },
    hostSampler: () => ({ sample: () => host.now }),
  });
});

afterAll(async () => {
  await agent?.stop();
  await overwatch?.shutdown();
  backend?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("the agent logs its id, gets ready after the first probe round, and counts heartbeats nobody hears", async () => {
  const identity = JSON.parse(readFileSync(join(dir, "data", "agent-identity.json"), "utf8")) as { agent_id: string };
  expect(agent.agentId).toBe(identity.agent_id);
  expect(logs.find((l) => l.msg === "agent identity created")?.agent_id).toBe(identity.agent_id);
  expect(logs.find((l) => l.msg === "vigil started")).toMatchObject({ mode: "agent", agent_id: identity.agent_id, backends: 1 });
  await agent.whenReady();
  await waitFor("a failed heartbeat", () => agent.heartbeats.counts.failed > 0, 3_000);
  expect(agent.gossipAddress()).toMatch(/^127\.0\.0\.1:\d+$/);
});

test("an overwatch that comes up later is found, and hears a signed claim: the backend healthy", async () => {
  overwatch = await startOverwatch();
  // The agent retries missing overwatches every 5 s.
  const claim = await claimWhere("a healthy claim", (c) => c.backends[0]?.status === "healthy", 10_000);
  const identity = JSON.parse(readFileSync(join(dir, "data", "agent-identity.json"), "utf8")) as { public_key: string };
  expect(Buffer.from(claim.publicKey).toString("base64")).toBe(identity.public_key);
  expect(claim).toMatchObject({ agentId: agent.agentId, service: "myapp", token: "tok", region: "us-east", parts: 1 });
  expect(claim.backends).toEqual([{ address: BACKEND_HOST, port: backend!.port, weight: 100, status: "healthy", detail: expect.any(String), bleeding: false }]);
  const member = overwatch.members().find((m) => m.name === `test-agent/${agent.agentId}`);
  expect(member?.meta).toEqual({ role: "agent", region: "us-east" });
  await waitFor("a heartbeat counted as sent", () => agent.heartbeats.counts.sent > 0, 3_000);
}, 15_000);

test("a host over its CPU threshold makes the backend draining, and back", async () => {
  host.now = { cpuPercent: 99, memoryPercent: 10 };
  const draining = await claimWhere("a draining claim", (c) => c.backends[0]?.status === "draining");
  expect(draining.backends[0]).toMatchObject({ bleeding: true, detail: "bleeding: cpu 99% > 85%" });
  const metrics = await (await fetch(`http://${agent.metricsAddress()}/metrics`)).text();
  expect(metrics).toContain(`vigil_predictive_bleeding{service="myapp",address="${BACKEND_HOST}",port="${backend!.port}"} 1`);
  expect(metrics).toContain("vigil_agent_backends_registered 1");
  expect(metrics).toMatch(/vigil_agent_heartbeats_sent_total [1-9]/);
  expect(metrics).toMatch(/vigil_agent_heartbeat_failures_total [1-9]/);
  host.now = { cpuPercent: 10, memoryPercent: 10 };
  await claimWhere("a healthy claim again", (c) => c.backends[0]?.status === "healthy");
});

test("a reload adds a backend; a backend without a health check is claimed healthy", async () => {
  yaml = config("  - { service: myapp, address: 127.0.0.63, port: 9 }");
  expect(await agent.reload()).toEqual({ ok: true });
  const claim = await claimWhere("a claim with two backends", (c) => c.backends.length === 2);
  expect(claim.backends[1]).toMatchObject({ address: "127.0.0.63", port: 9, status: "healthy", detail: "no health check configured" });
  yaml = "mode: agent\n";
  expect((await agent.reload()).ok).toBe(false);
});

test("the backend closed: the overwatch hears it unhealthy", async () => {
  backend!.stop(true);
  const claim = await claimWhere("an unhealthy claim", (c) => c.backends[0]?.status === "unhealthy");
  expect(claim.backends[0]!.detail).not.toBe("");
});
