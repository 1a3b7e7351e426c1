// The built-in balancer in the compiled binary: a server fed by a vigil service follows its health,
// SIGHUP adds and removes servers without dropping established connections, and servers made
// through the API survive a restart. Backends are real processes on their own 127.0.0.x addresses.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { waitFor } from "../helpers/wait.ts";
import { dig } from "../helpers/dig.ts";
import type { LbServerStats } from "../../src/lb/types.ts";

const backends = [101, 102, 103].map((n) => new BackendProcess("http", `127.0.0.${n}`));
let node: VigilProcess;
let api: string;

const config = (dir: string, servers: string) => `
dns:
  listen_address: ["127.0.0.1:0", "${DNS_BEHIND}"]
  zones: [lb.test]
  nameservers: [{ name: ns1.lb.test, addresses: [127.0.0.1] }]
services:
  - name: app
    health_check: { type: http, path: /, interval: 500ms, timeout: 300ms, failure_threshold: 1, success_threshold: 1 }
    backends:
${backends.map((b) => `      - { address: ${b.address}, port: ${b.port} }`).join("\n")}
lb:
  servers:
${servers}
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
`;

// The node's own DNS on a second, fixed address, fronted by a udp balancer server of the same node.
const DNS_BEHIND = "127.0.0.104:15353";
const DNS_FRONT = `    - { name: dns-front, bind: "127.0.0.1:0", protocol: udp, static: ["${DNS_BEHIND}"], udp: { max_replies: 1 } }`;
const WEB = `    - { name: web, bind: "127.0.0.1:0", balance: roundrobin, service: app }`;
const FIXED = `    - { name: fixed, bind: "127.0.0.1:0", static: ["${"127.0.0.101"}:PORT1"] }`;
const EXTRA = `    - { name: extra, bind: "127.0.0.1:0", balance: leastconn, service: app }`;
const withPorts = (servers: string) => servers.replace("PORT1", String(backends[0]!.port));

async function stats(): Promise<LbServerStats[]> {
  return ((await (await fetch(`${api}/api/v1/lb/stats`)).json()) as { servers: LbServerStats[] }).servers;
}

async function bindOf(name: string): Promise<string> {
  return waitFor(`lb server ${name} listening`, async () => (await stats()).find((s) => s.name === name && s.state === "running")?.bind, 5_000);
}

/** One HTTP request through the balancer on a new connection; the backend that answered. */
async function via(bind: string): Promise<string> {
  const response = await fetch(`http://${bind}/`, { headers: { connection: "close" } });
  await response.text();
  return response.headers.get("x-backend") ?? "";
}

/** A connection kept open across requests, to see it survive a reload. */
async function keepAlive(bind: string) {
  const [host, port] = [bind.slice(0, bind.lastIndexOf(":")), Number(bind.slice(bind.lastIndexOf(":") + 1))];
  let received = "";
  let wake = () => {};
  const socket = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data(_s, chunk) {
        received += chunk.toString();
        wake();
      },
    },
  });
  return {
    async request(): Promise<string> {
      received = "";
      socket.write("GET / HTTP/1.1\r\nhost: lb.test\r\n\r\n");
      await waitFor("a reply on the kept connection", () => (/\r\n\r\nok\n/.test(received) ? true : undefined), 5_000);
      return /x-backend: (\S+)/i.exec(received)?.[1] ?? "";
    },
    close: () => socket.end(),
  };
}

beforeAll(async () => {
  for (const b of backends) await b.start();
  node = await VigilProcess.start((dir) => config(dir, withPorts([WEB, FIXED, DNS_FRONT].join("\n"))));
  api = await node.apiUrl();
}, 20_000);

afterAll(async () => {
  await node.stop();
  for (const b of backends) await b.kill();
});

test("a server fed by a service spreads new connections over its healthy backends", async () => {
  const web = await bindOf("web");
  const seen = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const backend = await via(web);
    seen.set(backend, (seen.get(backend) ?? 0) + 1);
  }
  expect([...seen.keys()].sort()).toEqual(backends.map((b) => b.address).sort());
  for (const count of seen.values()) expect(count).toBe(10);
});

test("a killed backend: clients retry onto the others at once, and it leaves the pool when its service marks it down", async () => {
  const web = await bindOf("web");
  const victim = backends[2]!;
  const inPool = async () => (await stats()).find((s) => s.name === "web")!.backends.some((b) => b.address === victim.address);
  expect(await inPool()).toBe(true);
  await victim.kill();
  // Before any probe notices, a refused connect moves on to the next backend: no client sees an error.
  const during = await Promise.all(Array.from({ length: 12 }, () => via(web)));
  expect(during.every((b) => b === backends[0]!.address || b === backends[1]!.address)).toBe(true);
  // interval 500 ms x failure_threshold 1, plus a second of slack
  await waitFor(`${victim.address} out of the pool`, async () => ((await inPool()) ? undefined : true), 1_500, 50);
  const after = await Promise.all(Array.from({ length: 20 }, () => via(web)));
  expect(after.every((b) => b === backends[0]!.address || b === backends[1]!.address)).toBe(true);
  await victim.start();
  await waitFor(`${victim.address} back`, async () => ((await Promise.all(Array.from({ length: 6 }, () => via(web)))).includes(victim.address) ? true : undefined), 3_000, 100);
}, 10_000);

test("a udp server carries DNS: dig through it gets the answer the DNS listener gives", async () => {
  const front = await bindOf("dns-front");
  const [host, port] = [front.slice(0, front.lastIndexOf(":")), Number(front.slice(front.lastIndexOf(":") + 1))];
  const [dnsHost, dnsPort] = DNS_BEHIND.split(":") as [string, string];
  const direct = await dig(dnsHost, Number(dnsPort), ["app.lb.test", "A"]);
  const through = await dig(host, port, ["app.lb.test", "A"]);
  expect(through.status).toBe("NOERROR");
  expect(through.answer.length).toBeGreaterThan(0);
  expect(new Set(through.answer.map((rr) => rr.split(/\s+/).pop()))).toEqual(new Set(direct.answer.map((rr) => rr.split(/\s+/).pop())));
  const udp = (await stats()).find((s) => s.name === "dns-front")!;
  expect(udp.total).toBeGreaterThanOrEqual(1);
  expect(udp.bytesOut).toBeGreaterThan(0);
});

test("SIGHUP adds a server and drains a removed one without dropping its open connection", async () => {
  const fixed = await bindOf("fixed");
  const held = await keepAlive(fixed);
  expect(await held.request()).toBe(backends[0]!.address);

  node.writeConfig(config(node.dir, withPorts([WEB, EXTRA, DNS_FRONT].join("\n"))));
  node.signal("SIGHUP");
  const extra = await bindOf("extra");
  expect(backends.map((b) => b.address)).toContain(await via(extra));

  // Removed: no new connections, but the one already open still carries requests.
  await waitFor("fixed no longer accepting", async () => {
    try {
      await via(fixed);
      return undefined;
    } catch {
      return true;
    }
  }, 5_000);
  expect(await held.request()).toBe(backends[0]!.address);
  expect((await stats()).find((s) => s.name === "fixed")?.state).toBe("draining");
  held.close();
  await waitFor("fixed gone once drained", async () => ((await stats()).some((s) => s.name === "fixed") ? undefined : true), 5_000);
}, 15_000);

test("a server made through the API works, is counted, and survives a restart", async () => {
  const body = { name: "made", bind: "127.0.0.1:0", static: [`${backends[1]!.address}:${backends[1]!.port}`] };
  const created = await fetch(`${api}/api/v1/lb/servers`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(created.status).toBe(201);
  expect(await via(await bindOf("made"))).toBe(backends[1]!.address);

  const metricsAddress = (await node.waitForLog((l) => l.msg === "vigil started")).metrics as string;
  const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  expect(metrics).toMatch(/vigil_lb_connections_total\{server="made"\} [1-9]/);

  await node.halt();
  node = node.spawnAgain();
  api = await node.apiUrl();
  expect(await via(await bindOf("made"))).toBe(backends[1]!.address);
  const listed = (await (await fetch(`${api}/api/v1/lb/servers`)).json()) as { servers: { name: string; origin: string; state: string }[] };
  expect(listed.servers.find((s) => s.name === "made")).toMatchObject({ origin: "api", state: "running" });
  expect(listed.servers.find((s) => s.name === "web")).toMatchObject({ origin: "config", state: "running" });
}, 20_000);
