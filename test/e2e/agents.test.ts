// The deployment guide's architecture on loopback, all compiled binaries: 3 overwatches, 3 agents,
// 6 HTTP backends. The service exists only because agents announce it; overwatches validate the
// claims with their own probes and agree (min_peers_agree 1) before taking an address out.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { waitFor } from "../helpers/wait.ts";

const KEY = randomBytes(32).toString("base64");
const TOKEN = "myapp-token-e2e";
const OVERWATCHES = ["127.0.0.71:17981", "127.0.0.72:17981", "127.0.0.73:17981"];
const backends = Array.from({ length: 6 }, (_, i) => new BackendProcess("http", `127.0.0.${81 + i}`));
const overwatches: VigilProcess[] = [];
const agents: VigilProcess[] = [];

const overwatch = (i: number) => (dir: string) => `
mode: overwatch
identity: { node_id: ow-${i + 1} }
dns:
  listen_address: "127.0.0.${71 + i}:0"
  zones: [ag.test]
  nameservers: [{ name: ns1.ag.test, addresses: [127.0.0.1] }]
agent_tokens: { myapp: "${TOKEN}" }
gossip:
  encryption_key: "${KEY}"
  bind_address: "${OVERWATCHES[i]}"
  peers: [${OVERWATCHES.filter((_, j) => j !== i).map((a) => `"${a}"`).join(", ")}]
  min_peers_agree: 1
validation: { check_interval: 1s, check_timeout: 300ms }
stale: { threshold: 3s, remove_after: 6s }
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
`;

const agent = (i: number, token = TOKEN) => (dir: string) => `
mode: agent
identity: { node_id: agent-${i + 1}, service_token: "${token}", region: r${i + 1} }
backends:
${backends.slice(i * 2, i * 2 + 2).map((b) => `  - service: myapp
    address: ${b.address}
    port: ${b.port}
    health_check: { type: http, path: /health, interval: 500ms, timeout: 300ms, failure_threshold: 2, success_threshold: 1 }`).join("\n")}
gossip:
  encryption_key: "${KEY}"
  bind_address: "127.0.0.${91 + i}:17991"
  overwatch_nodes: [${OVERWATCHES.map((a) => `"${a}"`).join(", ")}]
heartbeat: { interval: 1s, missed_threshold: 3 }
data_dir: ${dir}/data
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
`;

async function answer(node: VigilProcess): Promise<string[]> {
  const started = await node.waitForLog((l) => l.msg === "vigil started");
  const dns = (started.dns as { host: string; udpPort: number }[])[0]!;
  return (await dig(dns.host, dns.udpPort, ["+short", "myapp.ag.test"])).text.trim().split("\n").filter(Boolean).sort();
}

const everyAnswer = async (want: (addresses: string[]) => boolean) => (await Promise.all(overwatches.map(answer))).every(want);

beforeAll(async () => {
  for (const b of backends) await b.start();
  for (let i = 0; i < 3; i++) overwatches.push(await VigilProcess.start(overwatch(i)));
  for (let i = 0; i < 3; i++) agents.push(await VigilProcess.start(agent(i)));
}, 30_000);

afterAll(async () => {
  await Promise.all([...agents, ...overwatches].map((n) => n.stop()));
  for (const b of backends) await b.kill();
});

test("the agents' six backends answer on every overwatch, with no service in any config", async () => {
  const all = backends.map((b) => b.address).sort();
  await waitFor("all six addresses on every overwatch", () => everyAnswer((a) => a.length === 6), 15_000, 100);
  expect(await answer(overwatches[0]!)).toEqual(all);
}, 20_000);

test("a killed backend leaves every overwatch within probe interval x threshold + 2 s", async () => {
  const victim = backends[0]!;
  const killedAt = Date.now();
  await victim.kill();
  // The overwatches' own validation (1 s x 3 failures) decides, once a peer agrees.
  await waitFor(`${victim.address} out everywhere`, () => everyAnswer((a) => !a.includes(victim.address)), 1000 * 3 + 2000 + 2000, 100);
  expect(Date.now() - killedAt).toBeLessThanOrEqual(1000 * 3 + 2000 + 1000);
}, 15_000);

test("a stopped agent goes stale, then its backends leave", async () => {
  const quiet = agents[2]!;
  const [a, b] = [backends[4]!.address, backends[5]!.address];
  await quiet.halt();
  await overwatches[0]!.waitForLog((l) => l.msg === "agents: agent-stale", 6_000);
  await waitFor("its backends gone from every overwatch", () => everyAnswer((x) => !x.includes(a) && !x.includes(b)), 10_000, 100);
}, 20_000);

test("an agent with the wrong service token is refused: logged and counted", async () => {
  const rogue = await VigilProcess.start(agent(2, "not-the-token"));
  try {
    await overwatches[0]!.waitForLog((l) => l.msg === "agent claim rejected" && l.reason === "bad-token", 10_000);
    const started = await overwatches[0]!.waitForLog((l) => l.msg === "vigil started");
    const metrics = await (await fetch(`http://${started.metrics as string}/metrics`)).text();
    expect(metrics).toMatch(/vigil_agent_claims_total\{outcome="bad-token"\} [1-9]/);
    expect(await answer(overwatches[0]!)).not.toContain(backends[4]!.address);
  } finally {
    await rogue.stop();
  }
}, 20_000);
