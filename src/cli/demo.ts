import { mkdirSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { option, type Command } from "./command.ts";
import { parseConfig } from "../config/load.ts";
import { VigilNode } from "../app/node.ts";
import { handleSignals } from "../app/signals.ts";
import { startDemoBackends } from "../app/demo-backends.ts";
import { errorMessage } from "../lib/errors.ts";
import demoYaml from "../app/demo.yaml" with { type: "text" };

const BACKEND_ADDRESSES = ["127.0.0.1", "127.0.0.2"];

export const demoCommand: Command = {
  name: "demo",
  summary: "run a standalone node on the embedded demo config, with two demo backends",
  usage:
    "vigil demo [--listen HOST:PORT] [--api HOST:PORT] [--metrics HOST:PORT] [--data-dir DIR]\n\n  --listen    DNS address (default 127.0.0.1:5353)\n  --api       API address (default 127.0.0.1:8080)\n  --metrics   Prometheus /metrics address (default 127.0.0.1:9090)\n  --data-dir  state directory (default: a vigil-demo folder in the temp dir)",
  async run(args) {
    const listen = option(args, "--listen") ?? "127.0.0.1:5353";
    const api = option(args, "--api") ?? "127.0.0.1:8080";
    const metrics = option(args, "--metrics") ?? "127.0.0.1:9090";
    const dataDir = option(args, "--data-dir") ?? join(tmpdir(), `vigil-demo-${userInfo().uid}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const backends = startDemoBackends(BACKEND_ADDRESSES);
    const env = {
      ...process.env,
      VIGIL_DEMO_LISTEN: listen,
      VIGIL_DEMO_API: api,
      VIGIL_DEMO_METRICS: metrics,
      VIGIL_DEMO_DATA: dataDir,
      VIGIL_DEMO_PORT_1: String(backends[0]!.port),
      VIGIL_DEMO_PORT_2: String(backends[1]!.port),
    };
    let node: VigilNode;
    try {
      node = await VigilNode.start(() => parseConfig(demoYaml, { env, source: "embedded demo config" }));
    } catch (err) {
      for (const b of backends) b.stop();
      console.error(`vigil demo: cannot start: ${errorMessage(err)}`);
      return 1;
    }
    await node.whenReady();
    const dns = node.dnsAddresses()[0]!;
    const apiUrl = `http://${api.replace(/:\d+$/, "")}:${node.apiPort()}`;
    console.log(
      [
        "",
        `vigil demo is ready: DNS on ${dns.host}:${dns.udpPort} (udp and tcp)`,
        `backends: ${backends.map((b) => `http://${b.address}:${b.port}/`).join("  ")}`,
        "",
        "try:",
        `  dig @${dns.host} -p ${dns.udpPort} app.demo.vigil.test`,
        `  dig @${dns.host} -p ${dns.udpPort} www.demo.vigil.test`,
        `  dig @${dns.host} -p ${dns.udpPort} +tcp demo.vigil.test SOA`,
        `  dig @${dns.host} -p ${dns.udpPort} nope.demo.vigil.test`,
        `  vigil status --api ${apiUrl}        (or: curl ${apiUrl}/api/v1/services)`,
        `  curl http://${node.metricsAddress()}/metrics`,
        "",
        `The backends are probed every second. Make one fail, and it leaves the answer within 2 s:`,
        `  curl -X POST http://${backends[0]!.address}:${backends[0]!.port}/fail     (and /recover to bring it back)`,
        "",
        "Ctrl-C stops it.",
      ].join("\n"),
    );
    return new Promise<number>((resolve) =>
      handleSignals(node, (code) => {
        for (const b of backends) b.stop();
        resolve(code);
      }),
    );
  },
};
