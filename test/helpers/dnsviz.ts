// dnsviz as a judge: `dnsviz probe` asks vigil as the zone's only authoritative server (on its test
// port; the "+" stops it there, so nothing above the zone is queried), then `dnsviz grok` assesses
// the answers with the zone's key that the DS points at as trust anchor. Debian's dnsviz 0.9.4
// imports pygraphviz.release, which pygraphviz 1.7 no longer ships: dnsviz runs through a shim that
// supplies that module (its version from pygraphviz itself) only when it is missing.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dnskeyRdata, dsRdata } from "../../src/dns/dnssec/dnskey.ts";
import type { AlgorithmNumber } from "../../src/dns/dnssec/types.ts";
import { dig } from "./dig.ts";
import type { DsLine } from "./validators.ts";

const SHIM = `import runpy, sys, types
try:
    from pygraphviz import release
except ImportError:
    import pygraphviz
    release = types.ModuleType("pygraphviz.release")
    release.version = pygraphviz.__version__
    sys.modules["pygraphviz.release"] = pygraphviz.release = release
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
`;

export interface DnsvizTarget {
  zone: string;
  /** The zone's NS name, as vigil serves it, and the port vigil answers on at 127.0.0.1. */
  nameserver: string;
  port: number;
  /** The DS the parent would hold: the DNSKEYs it points at become grok's trust anchors. */
  ds: readonly DsLine[];
  /** Names to analyse besides the zone itself. */
  names: readonly string[];
}

/** An "errors" or "warnings" list anywhere in grok's output, with the path to it. */
export interface Finding {
  path: string;
  items: unknown[];
}

export interface DnsvizReport {
  findings: Finding[];
  /** Every "status" grok gave, with the path to it ("signed.test./queries/…/status"). */
  statuses: { path: string; status: string }[];
}

/** Probes the zone and groks it; `anchors` overrides the trust-anchor file (to prove the judge can fail). */
export async function dnsvizReport(target: DnsvizTarget, anchors?: string): Promise<DnsvizReport> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-dnsviz-"));
  try {
    const names = [target.zone, ...target.names];
    const probe = join(dir, "probe.json");
    const trusted = join(dir, "trusted-keys");
    const grok = join(dir, "grok.json");
    const server = `${target.zone}+:${target.nameserver}=127.0.0.1:${target.port}`;
    await runDnsviz(["probe", "-A", "-4", "-x", server, "-o", probe, ...names]);
    writeFileSync(trusted, anchors ?? (await trustedKeys(target)));
    await runDnsviz(["grok", "-r", probe, "-t", trusted, "-o", grok, ...names]);
    return readReport(JSON.parse(readFileSync(grok, "utf8")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The zone's DNSKEY records whose digest matches one of the DS, as a zone-file text. */
async function trustedKeys(target: DnsvizTarget): Promise<string> {
  const reply = await dig("127.0.0.1", target.port, [target.zone, "DNSKEY"]);
  const anchors = reply.answer.filter((line) => {
    const [, , , type, flags, , algorithm, ...key] = line.split(" ");
    if (type !== "DNSKEY") return false;
    const rdata = dnskeyRdata(Number(flags), Number(algorithm) as AlgorithmNumber, Buffer.from(key.join(""), "base64"));
    const digest = Buffer.from(dsRdata(target.zone, rdata).subarray(4)).toString("hex");
    return target.ds.some((ds) => ds.digest.toLowerCase() === digest);
  });
  if (anchors.length === 0) throw new Error(`no DNSKEY of ${target.zone} matches the DS ${target.ds.map((d) => d.keyTag).join(", ")}`);
  return anchors.join("\n") + "\n";
}

function readReport(grok: unknown): DnsvizReport {
  const report: DnsvizReport = { findings: [], statuses: [] };
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value !== "object" || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}/${key}` : key;
      if ((key === "errors" || key === "warnings") && Array.isArray(child) && child.length > 0) report.findings.push({ path: at, items: child });
      if (key === "status" && typeof child === "string") report.statuses.push({ path: at, status: child });
      walk(child, at);
    }
  };
  walk(grok, "");
  return report;
}

async function runDnsviz(args: string[]): Promise<void> {
  const dnsviz = Bun.which("dnsviz");
  if (!dnsviz) throw new Error("dnsviz is not installed (apt-get install dnsviz; see .ci/run)");
  // The interpreter dnsviz was installed for: the one that sees Debian's pygraphviz.
  const python = readFileSync(dnsviz, "utf8").split("\n")[0]!.replace(/^#!\s*/, "");
  const proc = Bun.spawn([python, "-c", SHIM, dnsviz, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`dnsviz ${args[0]} exited with ${code}: ${stderr || stdout}`);
}
