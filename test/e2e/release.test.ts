// The binary on its own, as on a machine with nothing else installed: copied into an empty temp
// directory and run from there with an empty environment (env -i) and no node_modules anywhere
// above it, it reports its version, checks a config, serves the demo zone on loopback, backs up its
// live store, and stops cleanly on SIGTERM. It links against the C library and nothing else. And
// in a minimal Debian root made by debootstrap, scripts/test-clean-root.sh does the same (as root;
// about 30 s, most of it debootstrap).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { dig } from "../helpers/dig.ts";
import { IS_ROOT } from "../helpers/netns.ts";
import { BINARY } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

/** What the binary may link against: the C library and its loader, nothing that needs installing. */
const C_LIBRARY_FAMILY = /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|\/lib64\/ld-linux-x86-64\.so\.2)$/;

let dir: string;
let bin: string;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), "vigil-release-"));
  bin = join(dir, "vigil");
  copyFileSync(BINARY, bin);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `vigil ARGS` from the temp dir with nothing in its environment. */
function bare(args: string[]) {
  return Bun.spawn(["/usr/bin/env", "-i", bin, ...args], { cwd: dir, env: {}, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

async function runBare(args: string[]) {
  const proc = bare(args);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

/** Collects a stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: string } {
  const sink = { text: "" };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
  return sink;
}

describe("the release binary on its own", () => {
  test("nothing to lean on: no node_modules from its directory up to /", () => {
    for (let at = dir; ; at = dirname(at)) {
      expect(existsSync(join(at, "node_modules"))).toBe(false);
      if (dirname(at) === at) break;
    }
  });

  test("version prints the version and the commit it was built from", async () => {
    const r = await runBare(["version"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vigil \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown), bun \d+\.\d+\.\d+\)\n$/);
  });

  test("check-config accepts a small config given relative to its directory", async () => {
    writeFileSync(
      join(dir, "small.yaml"),
      `mode: standalone\ndns:\n  zones: [small.test]\n  nameservers: [{ name: ns1.small.test, addresses: [127.0.0.1] }]\nservices:\n  - name: app\n    backends: [{ address: 192.0.2.1 }]\n`,
    );
    const r = await runBare(["check-config", "small.yaml"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("small.yaml: valid (standalone mode, 1 zone(s), 1 service(s))\n");
  });

  test("the demo answers on loopback, its live store backs up, and SIGTERM stops it with 0", async () => {
    const demo = bare(["demo", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--data-dir", "data"]);
    const stdout = collect(demo.stdout);
    const stderr = collect(demo.stderr);
    try {
      const port = await waitFor(`the demo's ready line (stderr: ${stderr.text.slice(-500)})`, () => {
        if (demo.exitCode !== null) throw new Error(`vigil demo exited with ${demo.exitCode}: ${stderr.text}`);
        return Number(/vigil demo is ready: DNS on 127\.0\.0\.1:(\d+)/.exec(stdout.text)?.[1]) || undefined;
      }, 20_000);
      const app = await dig("127.0.0.1", port, ["app.demo.vigil.test", "A"]);
      expect(app.status).toBe("NOERROR");
      expect(app.answer.map((l) => l.split(" ").pop()).sort()).toEqual(["127.0.0.1", "127.0.0.2"]);

      // The running node's key, as served, is in a backup taken while it runs.
      const dnskey = await dig("127.0.0.1", port, ["demo.vigil.test", "DNSKEY", "+multi"]);
      const servedTags = [...dnskey.text.matchAll(/key id = (\d+)/g)].map((m) => Number(m[1]));
      expect(servedTags.length).toBeGreaterThan(0);
      const backup = await runBare(["backup", "--data-dir", "data", "--to", "demo-backup.db"]);
      expect(backup.stderr).toBe("");
      expect(backup.code).toBe(0);
      const db = new Database(join(dir, "demo-backup.db"), { readonly: true });
      try {
        expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
        const tags = db.query<{ tag: number }, []>("SELECT tag FROM dnssec_keys").all().map((r) => r.tag);
        for (const tag of servedTags) expect(tags).toContain(tag);
      } finally {
        db.close();
      }
    } finally {
      demo.kill("SIGTERM");
    }
    expect(await demo.exited).toBe(0);
    expect(stderr.text).toContain("stopping");
  }, 30_000);

  test("it links only against the C library family", async () => {
    const ldd = Bun.spawnSync(["ldd", bin], { stdout: "pipe", stderr: "pipe" });
    const text = ldd.stdout.toString();
    expect(ldd.exitCode).toBe(0);
    expect(text).not.toContain("not found");
    const libraries = text.trim().split("\n").map((line) => line.trim().split(/\s+/)[0]!);
    expect(libraries).toContain("libc.so.6");
    for (const library of libraries) expect(library).toMatch(C_LIBRARY_FAMILY);
  });

  test.skipIf(!IS_ROOT)("in a minimal Debian root (debootstrap, chroot) the same checks pass", async () => {
    const script = resolve(import.meta.dir, "../../scripts/test-clean-root.sh");
    const proc = Bun.spawn([script, bin], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(stderr).toBe("");
    expect(await proc.exited).toBe(0);
    expect(stdout).toContain("dig (from the host) app.demo.vigil.test A: 127.0.0.1 127.0.0.2");
    expect(stdout).toContain("SIGTERM: vigil demo exited with status 0");
    expect(stdout).toContain("all checks passed");
  }, 300_000);
});
