// The binary's life: commands, start-up errors, SIGHUP reload (good and bad), SIGTERM, the demo.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dig } from "../helpers/dig.ts";
import { BINARY, VigilProcess } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

function config(dir: string, opts: { records?: string; extraService?: string; listen?: string } = {}): string {
  return `
mode: standalone
identity: { node_id: e2e-life }
dns:
  listen_address: "${opts.listen ?? "127.0.0.1:0"}"
  zones: [life.test]
  nameservers: [{ name: ns1.life.test, addresses: [127.0.0.1] }]
  records: |
    ${opts.records ?? "txt IN TXT first"}
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }]
${opts.extraService ?? ""}`;
}

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BINARY, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-cli-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const serialOf = async (port: number) => Number((await dig("127.0.0.1", port, ["life.test", "SOA"])).answer[0]!.split(" ")[6]);

describe("commands", () => {
  test("version prints the version and the embedded commit", async () => {
    const r = await run(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vigil \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?, bun /);
  });

  test("--help lists the commands; CMD --help shows its usage; unknown commands fail", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["demo", "check-config", "version"]) expect(help.stdout).toContain(name);
    const demoHelp = await run(["demo", "--help"]);
    expect(demoHelp.stdout).toContain("--listen");
    const bad = await run(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  test("check-config exits 0 for a valid file and 1 with path and line for a bad one", async () => {
    const good = tempFile("good.yaml", config("/tmp/unused"));
    expect((await run(["check-config", good])).code).toBe(0);
    const bad = tempFile("bad.yaml", `dns:\n  listen_address: "53"\n`);
    const r = await run(["check-config", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dns.listen_address (line 2): expected host:port, got "53"');
  });

  test("check-config reports a record syntax error in dns.records", async () => {
    const bad = tempFile("records.yaml", config("/tmp/unused", { records: "www IN A 1.2.3" }));
    const r = await run(["check-config", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dns.records");
    expect(r.stderr).toContain("1.2.3");
  });
});

describe("start-up errors", () => {
  test("a broken config exits 1 naming the path, line and expectation", async () => {
    const path = tempFile("broken.yaml", `dns:\n  default_tll: 30\n`);
    const r = await run(["--config", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dns.default_tll (line 2)");
    expect(r.stderr).toContain('did you mean "default_ttl"');
  });

  test("an unwritable data_dir is a clear error, not a crash", async () => {
    const blocker = tempFile("not-a-dir", "x");
    const path = tempFile("cfg.yaml", config("/unused").replace(/data_dir: .*/, `data_dir: ${blocker}/data`));
    const r = await run(["--config", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(blocker);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("a DNS port already in use is a clear error", async () => {
    const first = await VigilProcess.start((dir) => config(dir));
    const port = await first.dnsPort();
    const path = tempFile("clash.yaml", config(mkdtempSync(join(tmpdir(), "vigil-clash-")), { listen: `127.0.0.1:${port}` }));
    const r = await run(["--config", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot listen for DNS on`);
    expect(await first.stop()).toBe(0);
  });
});

describe("signals", () => {
  test("SIGHUP applies a valid config at once and keeps the listener; an invalid one keeps the old config", async () => {
    const vigil = await VigilProcess.start((dir) => config(dir));
    try {
      const port = await vigil.dnsPort();
      const serialBefore = await serialOf(port);
      expect((await dig("127.0.0.1", port, ["new.life.test"])).status).toBe("NXDOMAIN");

      vigil.writeConfig(config(vigil.dir, { records: "txt IN TXT second", extraService: "  - name: new\n    backends: [{ address: 192.0.2.77 }]" }));
      vigil.signal("SIGHUP");
      await vigil.waitForLog((l) => l.msg === "config reloaded");
      expect((await dig("127.0.0.1", port, ["new.life.test"])).answer).toEqual(["new.life.test. 30 IN A 192.0.2.77"]);
      expect((await dig("127.0.0.1", port, ["txt.life.test", "TXT"])).answer).toEqual(['txt.life.test. 30 IN TXT "second"']);
      expect(await serialOf(port)).toBeGreaterThan(serialBefore);

      vigil.writeConfig("dns:\n  zones: [oops\n");
      vigil.signal("SIGHUP");
      const failure = await vigil.waitForLog((l) => l.msg.startsWith("config reload failed"));
      expect(String(failure.error)).toContain("line");
      expect((await dig("127.0.0.1", port, ["new.life.test"])).answer).toEqual(["new.life.test. 30 IN A 192.0.2.77"]);
    } finally {
      expect(await vigil.stop()).toBe(0);
    }
  });

  test("the SOA serial survives a restart unchanged when the zone did not change", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vigil-serial-"));
    const yaml = () => config(dataDir);
    const first = await VigilProcess.start(yaml);
    const before = await serialOf(await first.dnsPort());
    expect(await first.stop()).toBe(0);
    const second = await VigilProcess.start(yaml);
    expect(await serialOf(await second.dnsPort())).toBe(before);
    expect(await second.stop()).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("SIGTERM and SIGINT stop cleanly within 5 s", async () => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const vigil = await VigilProcess.start((dir) => config(dir));
      await vigil.dnsPort();
      const started = Date.now();
      vigil.signal(sig);
      expect(await vigil.proc.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      await vigil.stop();
    }
  });
});

describe("demo", () => {
  test("`vigil demo` answers app.demo.vigil.test from its two backends", async () => {
    const data = mkdtempSync(join(tmpdir(), "vigil-demo-test-"));
    const demo = VigilProcess.spawn([BINARY, "demo", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--data-dir", data], data, "");
    try {
      const ready = await waitFor("the demo's ready line", () => demo.stdout.find((l) => l.includes("vigil demo is ready")));
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]);
      expect(demo.stdout.join("\n")).toContain(`dig @127.0.0.1 -p ${port} app.demo.vigil.test`);
      const r = await dig("127.0.0.1", port, ["app.demo.vigil.test"]);
      expect(r.answer.map((l) => l.split(" ").pop()).sort()).toEqual(["127.0.0.1", "127.0.0.2"]);
      const backends = demo.stdout.find((l) => l.startsWith("backends:"))!;
      const url = /http:\/\/[^ ]+/.exec(backends)![0];
      expect(await (await fetch(url)).text()).toContain("hello from demo backend");
      const metrics = /curl (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(demo.stdout.join("\n"))![1]!;
      expect(await (await fetch(metrics)).text()).toContain("vigil_dns_queries_total{");
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });
});
