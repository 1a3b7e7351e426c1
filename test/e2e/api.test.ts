// The API of the compiled binary over real HTTP: an override set with curl-like requests changes
// what dig gets at once, survives a restart, and clearing it brings the address back. Writes need the
// token; a config that would accept writes on a public address without one does not start.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { dig } from "../helpers/dig.ts";
import { BINARY, VigilProcess } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

const TOKEN = "e2e-api-token";
let vigil: VigilProcess;

const config = (dir: string) => `
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [api.test]
  nameservers: [{ name: ns1.api.test, addresses: [127.0.0.1] }]
data_dir: ${dir}/data
api: { address: "127.0.0.1:0", token: "\${VIGIL_TEST_TOKEN}" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: myapp
    ttl: 1
    backends:
      - { address: 10.0.1.10 }
      - { address: 10.0.1.11 }
`;

async function answer(): Promise<string[]> {
  const port = await vigil.dnsPort();
  return (await dig("127.0.0.1", port, ["+short", "myapp.api.test"])).text.trim().split("\n").filter(Boolean).sort();
}

const request = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
  fetch(`${await vigil.apiUrl()}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  vigil = await VigilProcess.start(config, { VIGIL_TEST_TOKEN: TOKEN });
  await vigil.waitForLog((l) => l.msg === "ready: first probe round done");
});
afterAll(async () => {
  await vigil.stop();
});

test("an override from the deployment guide's curl takes the address out, survives a restart, and clears", async () => {
  expect(await answer()).toEqual(["10.0.1.10", "10.0.1.11"]);

  const refused = await request("PUT", "/api/v1/overrides/myapp/10.0.1.10", { healthy: false, reason: "x" }, null);
  expect(refused.status).toBe(401);
  expect(await answer()).toEqual(["10.0.1.10", "10.0.1.11"]);

  const set = await request("PUT", "/api/v1/overrides/myapp/10.0.1.10", { healthy: false, reason: "High latency from CloudWatch" });
  expect(set.status).toBe(200);
  expect(await answer()).toEqual(["10.0.1.11"]);

  expect(await vigil.halt()).toBe(0);
  vigil = vigil.spawnAgain();
  await vigil.waitForLog((l) => l.msg === "vigil started");
  expect(await answer()).toEqual(["10.0.1.11"]);
  const listed = (await (await request("GET", "/api/v1/overrides", undefined, null)).json()) as { overrides: { address: string; reason: string }[] };
  expect(listed.overrides.map((o) => [o.address, o.reason])).toEqual([["10.0.1.10", "High latency from CloudWatch"]]);

  expect((await request("DELETE", "/api/v1/overrides/myapp/10.0.1.10")).status).toBe(200);
  expect(await answer()).toEqual(["10.0.1.10", "10.0.1.11"]);

  const audit = (await (await request("GET", "/api/v1/audit")).json()) as { entries: { method: string; status: number }[] };
  expect(audit.entries.map((e) => `${e.method} ${e.status}`)).toEqual(["DELETE 200", "PUT 200", "PUT 401"]);
});

test("POST /reload applies an edited config file, and a broken one is 422 while the old config keeps serving", async () => {
  vigil.writeConfig(config(vigil.dir).replace("      - { address: 10.0.1.11 }", "      - { address: 10.0.1.11 }\n      - { address: 10.0.1.12 }"));
  const ok = await request("POST", "/api/v1/reload");
  expect(ok.status).toBe(200);
  await waitFor("the new backend in the answer", async () => (await answer()).length === 3, 5000);

  vigil.writeConfig("dns: [not, a, map]\n");
  const broken = await request("POST", "/api/v1/reload");
  expect(broken.status).toBe(422);
  expect(((await broken.json()) as { error: string }).error).toContain("dns");
  expect(await answer()).toEqual(["10.0.1.10", "10.0.1.11", "10.0.1.12"]);
});

test("writes on a non-loopback API without a token: the binary refuses the config", async () => {
  const check = Bun.spawnSync([BINARY, "check-config", "/dev/stdin"], {
    stdin: new TextEncoder().encode('api: { address: "0.0.0.0:8080" }\n'),
  });
  expect(check.exitCode).toBe(1);
  expect(check.stderr.toString() + check.stdout.toString()).toContain("api.token");
});
