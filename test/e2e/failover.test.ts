// Answers follow real health: backends are processes on their own 127.0.0.x addresses; kill one and
// the compiled binary drops it within interval × failure_threshold + 1 s, bring it back and it
// returns within interval × success_threshold + 1 s.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dig } from "../helpers/dig.ts";
import { BINARY, VigilProcess } from "../helpers/vigil-process.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { waitFor } from "../helpers/wait.ts";

const INTERVAL_MS = 1000;
const FALL = 2;
const RISE = 2;

const http = [new BackendProcess("http", "127.0.0.2"), new BackendProcess("http", "127.0.0.3")];
const tcp = [new BackendProcess("tcp", "127.0.0.4"), new BackendProcess("tcp", "127.0.0.5")];
let vigil: VigilProcess;
let port: number;

const check = (type: string, extra = "") =>
  `{ type: ${type}, ${extra}interval: ${INTERVAL_MS}ms, timeout: 400ms, failure_threshold: ${FALL}, success_threshold: ${RISE} }`;

function config(dir: string): string {
  const list = (bs: BackendProcess[]) => bs.map((b) => `      - { address: ${b.address}, port: ${b.port} }`).join("\n");
  return `
mode: standalone
identity: { node_id: e2e-failover }
dns:
  listen_address: "127.0.0.1:0"
  zones: [fo.test]
  nameservers: [{ name: ns1.fo.test, addresses: [127.0.0.1] }]
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: web
    ttl: 1
    flap_damping: { max_changes: 0 }
    health_check: ${check("http", "path: /health, ")}
    backends:
${list(http)}
  - name: db
    ttl: 1
    flap_damping: { max_changes: 0 }
    health_check: ${check("tcp")}
    backends:
${list(tcp)}
`;
}

const answer = async (name: string) => (await dig("127.0.0.1", port, ["+short", name])).text.trim().split("\n").filter(Boolean).sort();

/** Time from `since` until the answer for `name` does (or does not) contain `address`. */
async function timeUntil(name: string, address: string, present: boolean, since: number, boundMs: number): Promise<number> {
  await waitFor(`${address} to ${present ? "return to" : "leave"} ${name}`, async () => (await answer(name)).includes(address) === present, boundMs + 2000, 25);
  return Date.now() - since;
}

beforeAll(async () => {
  for (const b of [...http, ...tcp]) await b.start();
  vigil = await VigilProcess.start(config);
  port = await vigil.dnsPort();
  await vigil.waitForLog((l) => l.msg === "ready: first probe round done");
}, 15_000);

afterAll(async () => {
  await vigil.stop();
  for (const b of [...http, ...tcp]) await b.kill();
});

describe("failover on the compiled binary", () => {
  for (const [kind, name, backends] of [["http", "web.fo.test", http], ["tcp", "db.fo.test", tcp]] as const) {
    test(`${kind}: a killed backend leaves the answer in time, and returns when restarted`, async () => {
      expect(await answer(name)).toEqual(backends.map((b) => b.address).sort());
      const victim = backends[0]!;

      const killedAt = Date.now();
      await victim.kill();
      const outAfter = await timeUntil(name, victim.address, false, killedAt, INTERVAL_MS * FALL + 1000);
      expect(outAfter).toBeLessThanOrEqual(INTERVAL_MS * FALL + 1000);
      expect(await answer(name)).toEqual([backends[1]!.address]);

      const restartedAt = Date.now();
      await victim.start();
      const inAfter = await timeUntil(name, victim.address, true, restartedAt, INTERVAL_MS * RISE + 1000);
      expect(inAfter).toBeLessThanOrEqual(INTERVAL_MS * RISE + 1000);
      console.log(`${kind}: out after ${outAfter} ms, back after ${inAfter} ms`);
    }, 20_000);
  }

  test("every change is logged and explained by the API and by `vigil status`", async () => {
    const change = vigil.logs.find((l) => l.msg === "backend state changed" && l.to === "down");
    expect(change).toMatchObject({ service: "web.fo.test", address: "127.0.0.2", from: "up", to: "down" });
    expect(String(change!.reason)).toStartWith("probe: ");
    const api = String((await vigil.waitForLog((l) => l.msg === "vigil started")).api);
    const status = Bun.spawnSync([BINARY, "status", "--api", `http://${api}`]);
    const text = status.stdout.toString();
    expect(status.exitCode).toBe(0);
    expect(text).toContain("node ready");
    expect(text).toMatch(/web\.fo\.test\s+roundrobin\s+127\.0\.0\.2:\d+\s+up/);
    expect(text).toMatch(/db\.fo\.test\s+roundrobin\s+127\.0\.0\.5:\d+\s+up\s+\S+\s+probe: connected/);
  });
});

describe("restart", () => {
  test("a restarted node answers from the saved state before its first probe", async () => {
    const dead = new BackendProcess("http", "127.0.0.6");
    const alive = new BackendProcess("http", "127.0.0.7");
    await dead.start();
    await alive.start();
    await dead.kill();
    // A long interval: after the restart only the saved state can know .6 is down.
    const yaml = (dir: string, interval: string) => `
dns:
  listen_address: "127.0.0.1:0"
  zones: [rs.test]
  nameservers: [{ name: ns1.rs.test, addresses: [127.0.0.1] }]
data_dir: ${dir}/state
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { format: json }
services:
  - name: app
    health_check: { type: tcp, interval: ${interval}, timeout: 150ms, failure_threshold: 1 }
    backends: [{ address: 127.0.0.6, port: ${dead.port} }, { address: 127.0.0.7, port: ${alive.port} }]
`;
    const first = await VigilProcess.start((dir) => yaml(dir, "200ms"));
    const firstPort = await first.dnsPort();
    await waitFor("the dead backend to leave", async () => {
      const r = await dig("127.0.0.1", firstPort, ["+short", "app.rs.test"]);
      return r.text.trim() === "127.0.0.7";
    });
    first.signal("SIGTERM");
    expect(await first.proc.exited).toBe(0);

    first.writeConfig(yaml(first.dir, "60s"));
    const second = VigilProcess.spawn([BINARY, "--config", first.configPath], first.dir, first.configPath);
    try {
      const secondPort = await second.dnsPort();
      expect((await dig("127.0.0.1", secondPort, ["+short", "app.rs.test"])).text.trim()).toBe("127.0.0.7");
    } finally {
      await second.stop();
      await alive.kill();
    }
  }, 20_000);
});
