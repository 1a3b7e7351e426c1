// Agent mode in the compiled binary: the guide's agent.yaml (pointed at loopback, a temp data_dir and
// a free metrics port) starts, logs its agent id, reloads on SIGHUP and keeps its id across a
// restart; and beside an overwatch binary, it registers and its backend is answered in DNS.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { BackendProcess } from "../helpers/backend-process.ts";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

const GUIDE = readFileSync(`${import.meta.dir}/../fixtures/guide-agent.yaml`, "utf8");
const ENV = { MYAPP_TOKEN: "myapp-secret", GOSSIP_KEY: randomBytes(32).toString("base64") };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OVERWATCH = "127.0.0.81:17981";
const backend = new BackendProcess("http", "127.0.0.1");
const running: VigilProcess[] = [];

/** The guide's agent.yaml, with only what must differ on a test machine changed. */
function agentYaml(dir: string, overwatch: string): string {
  const yaml = GUIDE.replace("port: 8080", `port: ${backend.port}`)
    .replace(/overwatch_nodes:\n(\s+- .*\n)+/, `overwatch_nodes:\n    - "${overwatch}"\n`)
    .replace("data_dir: /var/lib/opengslb", `data_dir: ${dir}/data`)
    .replace('address: "127.0.0.1:9100"', 'address: "127.0.0.1:0"');
  expect(yaml).not.toContain("internal");
  return yaml;
}

const overwatchYaml = (dir: string) => `
mode: overwatch
identity: { node_id: ow-agent-e2e }
dns:
  listen_address: "127.0.0.81:0"
  zones: [gslb.test]
  nameservers: [{ name: ns1.gslb.test, addresses: [127.0.0.81] }]
  dnssec: { enabled: false, security_acknowledgment: "I understand that disabling DNSSEC allows DNS spoofing attacks" }
agent_tokens: { myapp: "\${MYAPP_TOKEN}" }
gossip: { encryption_key: "\${GOSSIP_KEY}", bind_address: "${OVERWATCH}" }
validation: { check_interval: 1s, check_timeout: 500ms }
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
`;

async function start(yaml: (dir: string) => string): Promise<VigilProcess> {
  const vigil = await VigilProcess.start(yaml, ENV);
  running.push(vigil);
  return vigil;
}

beforeAll(async () => {
  await backend.start();
});

afterAll(async () => {
  await Promise.all(running.map((v) => v.stop()));
  await backend.kill();
});

test("the guide's agent.yaml starts, logs its agent id, reloads, and keeps its id across a restart", async () => {
  // Nothing listens at the overwatch address: the agent runs anyway and keeps trying.
  const agent = await start((dir) => agentYaml(dir, "127.0.0.82:17982"));
  const identity = await agent.waitForLog((l) => l.msg === "agent identity created");
  expect(identity.agent_id).toMatch(UUID);
  const started = await agent.waitForLog((l) => l.msg === "vigil started");
  expect(started).toMatchObject({ mode: "agent", agent_id: identity.agent_id, services: ["myapp"], backends: 1 });
  expect(String(started.gossip)).toMatch(/^127\.0\.0\.1:\d+$/);
  await agent.waitForLog((l) => l.msg === "ready: first probe round done");
  const metrics = await (await fetch(`http://${started.metrics as string}/metrics`)).text();
  expect(metrics).toContain("vigil_agent_backends_registered 1");

  agent.signal("SIGHUP");
  await agent.waitForLog((l) => l.msg === "config reloaded");
  expect(await agent.halt()).toBe(0);

  const again = agent.spawnAgain();
  running.push(again);
  const loaded = await again.waitForLog((l) => l.msg === "agent identity loaded");
  expect(loaded.agent_id).toBe(identity.agent_id);
}, 20_000);

test("beside an overwatch binary the agent registers, and its backend is answered", async () => {
  const overwatch = await start(overwatchYaml);
  const agent = await start((dir) => agentYaml(dir, OVERWATCH));
  const { agent_id } = await agent.waitForLog((l) => l.msg === "agent identity created");
  const api = await overwatch.apiUrl();
  const registered = await waitFor("the agent registered on the overwatch", async () => {
    const body = (await (await fetch(`${api}/api/v1/agents`)).json()) as { agents: { agent_id: string; services: string[]; stale: boolean }[] };
    return body.agents.find((a) => a.agent_id === agent_id);
  }, 15_000);
  expect(registered).toMatchObject({ services: ["myapp"], stale: false });
  const port = await overwatch.dnsPort();
  await waitFor("myapp.gslb.test answered with the agent's backend", async () => {
    const answer = await dig("127.0.0.81", port, ["+short", "myapp.gslb.test"]);
    return answer.text.trim() === "127.0.0.1";
  }, 10_000);
}, 30_000);
