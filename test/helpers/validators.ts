// Real validators as judges of vigil's signatures: unbound as a validating resolver with a stub
// zone pointing at vigil and vigil's DS as the trust anchor, and BIND's delv with the same anchor.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { dig, type DigResult } from "./dig.ts";
import { waitFor } from "./wait.ts";

/** A DS in presentation form: "zone. IN DS 12345 13 2 ABCDEF…" (or without "IN"). */
export interface DsLine {
  zone: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
}

export function parseDs(line: string): DsLine {
  const m = /^(\S+?)\.?\s+(?:\d+\s+)?(?:IN\s+)?DS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f ]+)$/.exec(line.trim());
  if (!m) throw new Error(`not a DS record: ${line}`);
  return { zone: m[1]!, keyTag: Number(m[2]), algorithm: Number(m[3]), digestType: Number(m[4]), digest: m[5]!.replace(/\s+/g, "") };
}

/** A free UDP+TCP port on 127.0.0.1, found by binding port 0 and letting go. */
async function freePort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = socket.port;
  socket.close();
  return port;
}

export interface UnboundOptions {
  /** Judge signatures as of this moment (ms since the epoch) instead of now: unbound's val-override-date. */
  validateAt?: number;
}

/** RRSIG-style time, "YYYYMMDDHHMMSS" in UTC. */
function rrsigDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\D/g, "").slice(0, 14);
}

/** The DS records a node's API ("127.0.0.1:port") offers for the parent (GET /api/v1/dnssec/ds, one zone served). */
export async function fetchDs(apiAddress: string, token?: string): Promise<DsLine[]> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`http://${apiAddress}/api/v1/dnssec/ds`, { headers });
  if (!response.ok) throw new Error(`GET /api/v1/dnssec/ds: HTTP ${response.status}`);
  const body = (await response.json()) as { ds_records: { ds_record: string }[] };
  return body.ds_records.map((d) => parseDs(d.ds_record));
}

export class Unbound {
  private constructor(
    private readonly proc: Subprocess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  /**
   * A validating resolver for the zone of `anchors`, asking vigil at 127.0.0.1:vigilPort, trusting
   * those DS records (one, or the parent's whole DS set).
   */
  static async start(anchors: DsLine | readonly DsLine[], vigilPort: number, options: UnboundOptions = {}): Promise<Unbound> {
    const dsSet: readonly DsLine[] = "zone" in anchors ? [anchors] : anchors;
    const zone = dsSet[0]!.zone;
    const dir = mkdtempSync(join(tmpdir(), "vigil-unbound-"));
    const port = await freePort();
    const trustAnchors = dsSet.map((ds) => `  trust-anchor: "${ds.zone}. DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}"`).join("\n");
    const overrideDate = options.validateAt === undefined ? "" : `\n  val-override-date: "${rrsigDate(options.validateAt)}"`;
    const conf = join(dir, "unbound.conf");
    writeFileSync(
      conf,
      `server:
  interface: 127.0.0.1@${port}
  port: ${port}
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  module-config: "validator iterator"
${trustAnchors}${overrideDate}
  harden-dnssec-stripped: yes
  qname-minimisation: no
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  access-control: 127.0.0.0/8 allow
  # Test zones live under the special-use .test TLD (RFC 6761), which unbound answers itself by default.
  local-zone: "test." nodefault
stub-zone:
  name: "${zone}."
  stub-addr: 127.0.0.1@${vigilPort}
`,
    );
    const proc = Bun.spawn(["unbound", "-d", "-c", conf], { stdout: "pipe", stderr: "pipe" });
    const unbound = new Unbound(proc, port, dir);
    await waitFor("unbound to answer", async () => (await unbound.query(["version.server", "CH", "TXT"])).status !== "NONE", 10_000, 100);
    return unbound;
  }

  query(args: string[]): Promise<DigResult> {
    return dig("127.0.0.1", this.port, ["+recurse", "+dnssec", ...args]);
  }

  async stop(): Promise<void> {
    this.proc.kill();
    await this.proc.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** delv straight at vigil with the DS as the only trust anchor; its verdict line ("fully validated"…). */
export async function delv(ds: DsLine, vigilPort: number, name: string, type = "A"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-delv-"));
  const anchors = join(dir, "anchors.conf");
  writeFileSync(anchors, `trust-anchors {\n  "${ds.zone}." static-ds ${ds.keyTag} ${ds.algorithm} ${ds.digestType} "${ds.digest}";\n};\n`);
  const proc = Bun.spawn(["delv", "@127.0.0.1", "-p", String(vigilPort), "-a", anchors, `+root=${ds.zone}`, name, type], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  return out + err;
}
