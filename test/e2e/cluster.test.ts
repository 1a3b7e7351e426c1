// Three overwatches of the compiled binary gossiping on loopback (127.0.0.41-43), min_peers_agree 1:
// they find each other, a killed backend leaves every node's answers once a peer agrees, and a node
// whose own probe alone sees a backend down keeps it in (suspect) because no peer agrees.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { waitFor } from "../helpers/wait.ts";

const KEY = randomBytes(32).toString("base64");
const GOSSIP_PORT = 17946;
const NODES = ["127.0.0.41", "127.0.0.42", "127.0.0.43"];
const backends = [new BackendProcess("tcp", "127.0.0.51"), new BackendProcess("tcp", "127.0.0.52")];
let nodes: VigilProcess[] = [];

/** Node i probes the second backend at a closed port when `blind` says so: its own view alone is down. */
function config(i: number, blind: boolean) {
  return (dir: string) => `
mode: overwatch
identity: { node_id: ow-${i + 1} }
dns:
  listen_address: "${NODES[i]}:0"
  zones: [cl.test]
  nameservers: [{ name: ns1.cl.test, addresses: [127.0.0.1] }]
gossip:
  encryption_key: "${KEY}"
  bind_address: "${NODES[i]}:${GOSSIP_PORT}"
  peers: [${NODES.filter((_, j) => j !== i).map((a) => `"${a}:${GOSSIP_PORT}"`).join(", ")}]
  min_peers_agree: 1
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: app
    ttl: 1
    when_all_down: fail_closed
    flap_damping: { max_changes: 0 }
    health_check: { type: tcp, interval: 500ms, timeout: 300ms, failure_threshold: 2, success_threshold: 1 }
    backends:
      - { address: ${backends[0]!.address}, port: ${backends[0]!.port} }
      - { address: ${backends[1]!.address}, port: ${backends[1]!.port}${blind ? ", check_port: 9" : ""} }
`;
}

async function answer(node: VigilProcess): Promise<string[]> {
  const started = await node.waitForLog((l) => l.msg === "vigil started");
  const dns = (started.dns as { host: string; udpPort: number }[])[0]!;
  return (await dig(dns.host, dns.udpPort, ["+short", "app.cl.test"])).text.trim().split("\n").filter(Boolean).sort();
}

async function members(node: VigilProcess) {
  const r = await fetch(`${await node.apiUrl()}/api/v1/cluster/members`);
  return ((await r.json()) as { members: { name: string; state: string }[] }).members;
}

beforeAll(async () => {
  for (const b of backends) await b.start();
  nodes = await Promise.all(NODES.map((_, i) => VigilProcess.start(config(i, i === 2))));
  for (const node of nodes) await node.waitForLog((l) => l.msg === "vigil started");
}, 20_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  for (const b of backends) await b.kill();
});

test("the three overwatches find each other", async () => {
  for (const node of nodes) {
    await waitFor("3 alive members", async () => (await members(node)).filter((m) => m.state === "alive").length === 3, 10_000);
  }
}, 15_000);

test("a backend only one node sees down stays in that node's answers, marked suspect", async () => {
  const blind = nodes[2]!;
  await waitFor("ow-3's own probe to fail", async () => {
    const body = (await (await fetch(`${await blind.apiUrl()}/api/v1/backends/app/${backends[1]!.address}`)).json()) as { backends: { suspect: boolean; reason: string }[] };
    return body.backends[0]!.suspect;
  }, 10_000);
  expect(await answer(blind)).toEqual(backends.map((b) => b.address).sort());
}, 15_000);

test("a killed backend leaves every node's answers once peers agree, within interval x threshold + 2 s", async () => {
  const victim = backends[0]!;
  const killedAt = Date.now();
  await victim.kill();
  for (const node of nodes) {
    await waitFor(`${victim.address} to leave the answers`, async () => !(await answer(node)).includes(victim.address), 500 * 2 + 2000 + 2000, 50);
  }
  expect(Date.now() - killedAt).toBeLessThanOrEqual(500 * 2 + 2000 + 1000);
  const reason = (await (await fetch(`${await nodes[0]!.apiUrl()}/api/v1/backends/app/${victim.address}`)).json()) as { backends: { reason: string }[] };
  expect(reason.backends[0]!.reason).toMatch(/confirmed by ow-/);
}, 15_000);

test("a node with another gossip key is kept out: it sees no one, and the others count and log its packets", async () => {
  const intruder = await VigilProcess.start((dir) =>
    config(0, false)(dir)
      .replace(`encryption_key: "${KEY}"`, `encryption_key: "${randomBytes(32).toString("base64")}"`)
      .replace("node_id: ow-1", "node_id: intruder")
      .replace(`bind_address: "${NODES[0]}:${GOSSIP_PORT}"`, `bind_address: "127.0.0.44:${GOSSIP_PORT}"`)
      .replace(/peers: \[[^\]]*\]/, `peers: ["${NODES[0]}:${GOSSIP_PORT}"]`),
  );
  try {
    const metricsOf = async (node: VigilProcess) => {
      const started = await node.waitForLog((l) => l.msg === "vigil started");
      return (await fetch(`http://${started.metrics as string}/metrics`)).text();
    };
    await waitFor("ow-1 to count wrong-key packets", async () => /vigil_gossip_dropped_total\{reason="wrong-key"\} [1-9]/.test(await metricsOf(nodes[0]!)), 10_000);
    await nodes[0]!.waitForLog((l) => l.msg === "gossip from a node with another encryption key was dropped");
    expect((await members(intruder)).map((m) => m.name)).toEqual(["intruder"]);
    expect((await members(nodes[0]!)).map((m) => m.name).sort()).toEqual(["ow-1", "ow-2", "ow-3"]);
  } finally {
    await intruder.stop();
  }
}, 20_000);

test("an override set on one overwatch reaches the others: their answers change too, and clearing it is shared", async () => {
  const TOKENLESS = nodes[0]!;
  const target = backends[1]!.address;
  const put = await fetch(`${await TOKENLESS.apiUrl()}/api/v1/overrides/app/${target}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ healthy: false, reason: "drain for the kernel update" }),
  });
  expect(put.status).toBe(200);
  for (const node of nodes) {
    await waitFor(`${target} out of every node's answer`, async () => !(await answer(node)).includes(target), 5_000, 50);
  }
  const seen = (await (await fetch(`${await nodes[2]!.apiUrl()}/api/v1/overrides`)).json()) as { overrides: { address: string; reason: string }[] };
  expect(seen.overrides.map((o) => [o.address, o.reason])).toEqual([[target, "drain for the kernel update"]]);

  expect((await fetch(`${await nodes[1]!.apiUrl()}/api/v1/overrides/app/${target}`, { method: "DELETE" })).status).toBe(200);
  for (const node of nodes) {
    await waitFor("the override to be cleared everywhere", async () => {
      const body = (await (await fetch(`${await node.apiUrl()}/api/v1/overrides`)).json()) as { overrides: unknown[] };
      return body.overrides.length === 0;
    }, 5_000, 50);
  }
}, 20_000);

test("the DNSSEC key sets converge over gossip: every overwatch serves the same DS", async () => {
  const ds = async (node: VigilProcess) => {
    const body = (await (await fetch(`${await node.apiUrl()}/api/v1/dnssec/ds`)).json()) as { ds_records: { ds_record: string }[] };
    return body.ds_records.map((r) => r.ds_record).sort().join("\n");
  };
  await waitFor("one DS set on all three nodes", async () => {
    const all = await Promise.all(nodes.map(ds));
    return all[0] !== "" && all.every((d) => d === all[0]);
  }, 10_000, 100);
}, 15_000);
