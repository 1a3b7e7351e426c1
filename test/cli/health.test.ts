// `vigil health`, the container's health check: exit 0 when a running node's API says it is alive,
// 1 with the reason when it cannot be reached or refuses; and where it looks for the API.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { apiBaseUrl, DEFAULT_API_URL } from "../../src/cli/api-base.ts";
import { VigilNode } from "../../src/app/node.ts";
import { parseConfig } from "../../src/config/load.ts";
import { versionInfo } from "../../src/lib/version.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");

let tmp: string;
const nodes: VigilNode[] = [];
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vigil-health-"));
});
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop();
  rmSync(tmp, { recursive: true, force: true });
});

// Read-only, so the 0.0.0.0 cases are valid without a token.
function config(api: string, extraApi = ""): string {
  return `
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [h.test]
  nameservers: [{ name: ns1.h.test, addresses: [127.0.0.1] }]
  dnssec: { enabled: false, security_acknowledgment: "I understand that disabling DNSSEC allows DNS spoofing attacks" }
api: { address: "${api}", read_only: true${extraApi} }
metrics: { enabled: false }
data_dir: ${tmp}/data
`;
}

/** A real node on loopback with port 0 for DNS and the API; returns its API port. */
async function startNode(extraApi = ""): Promise<number> {
  const yaml = config("127.0.0.1:0", extraApi);
  const node = await VigilNode.start(() => parseConfig(yaml), { logSink: { write: () => {} } });
  nodes.push(node);
  return node.apiPort()!;
}

async function health(args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, "health", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

function configFile(yaml: string): string {
  const path = join(tmp, `vigil-${crypto.randomUUID()}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

describe("vigil health", () => {
  test("exits 0 for a running node, found by --api or by --config; 1 once it has stopped", async () => {
    const port = await startNode();
    const byApi = await health(["--api", `http://127.0.0.1:${port}/`]);
    expect(byApi.stderr).toBe("");
    expect(byApi.code).toBe(0);
    expect(byApi.stdout).toBe(`http://127.0.0.1:${port}/api/v1/health: ok (vigil ${versionInfo.version} (${versionInfo.commit}))\n`);

    const byConfig = await health(["--config", configFile(config(`127.0.0.1:${port}`))]);
    expect(byConfig.code).toBe(0);

    await nodes.pop()!.stop();
    const stopped = await health(["--api", `http://127.0.0.1:${port}`]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`vigil health: cannot reach http://127.0.0.1:${port}/api/v1/health`);
  });

  test("a node that refuses this address is unhealthy, and says why", async () => {
    const port = await startNode(`, allowed_networks: ["192.0.2.0/24"]`);
    const r = await health(["--api", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused: this address is not in the node's api.allowed_networks");
  });

  test("something other than vigil's API on the port is unhealthy", async () => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not found", { status: 404 }) });
    try {
      const r = await health(["--api", `http://127.0.0.1:${other.port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`/api/v1/health answered 404: not found`);
    } finally {
      other.stop(true);
    }
  });
});

describe("where the CLI finds the API", () => {
  test("--api as given, without a trailing slash; the default without options", () => {
    expect(apiBaseUrl(["--api", "http://10.1.1.1:9000/"])).toBe("http://10.1.1.1:9000");
    expect(apiBaseUrl([])).toBe(DEFAULT_API_URL);
  });

  test("--config: api.address, with an every-interface listener asked on loopback", () => {
    expect(apiBaseUrl(["--config", configFile(config("0.0.0.0:8080"))])).toBe("http://127.0.0.1:8080");
    expect(apiBaseUrl(["--config", configFile(config("[::]:8081"))])).toBe("http://[::1]:8081");
    expect(apiBaseUrl(["--config", configFile(config("[::1]:8082"))])).toBe("http://[::1]:8082");
  });

  test("--config with the API turned off, or invalid, is an error naming the file", () => {
    const off = configFile(config("127.0.0.1:8080", ", enabled: false"));
    expect(() => apiBaseUrl(["--config", off])).toThrow(`${off} turns the API off (api.enabled: false)`);
    const bad = configFile(`api: { address: "8080" }\n`);
    expect(() => apiBaseUrl(["--config", bad])).toThrow("api.address");
  });
});
