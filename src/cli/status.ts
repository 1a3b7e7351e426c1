import type { Command } from "./command.ts";
import { apiBaseUrl } from "./api-base.ts";
import { errorMessage } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";

interface StatusBackend {
  address: string;
  port: number;
  state: string;
  reason: string;
  since: string;
}

interface StatusService {
  fqdn: string;
  policy: string;
  backends: StatusBackend[];
}

export const statusCommand: Command = {
  name: "status",
  summary: "show a running node's services and backends: state, reason, last change",
  usage:
    "vigil status [--api URL | --config FILE]\n\n  --api     the node's API, e.g. http://127.0.0.1:8080 (default)\n  --config  read api.address from this config file",
  async run(args) {
    try {
      const base = apiBaseUrl(args);
      const [services, ready] = await Promise.all([getJson(`${base}/api/v1/services`), getJson(`${base}/api/v1/ready`)]);
      console.log(render((services as { services: StatusService[] }).services, (ready as { ready: boolean }).ready));
      return 0;
    } catch (err) {
      console.error(`vigil status: ${errorMessage(err)}`);
      return 1;
    }
  },
};

async function getJson(url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${errorMessage(err)} (is the node running, and is api.address right?)`);
  }
  if (response.status === 403) throw new Error(`${url}: refused: this address is not in the node's api.allowed_networks`);
  return response.json();
}

function render(services: StatusService[], ready: boolean): string {
  const rows = [["SERVICE", "POLICY", "BACKEND", "STATE", "SINCE", "REASON"]];
  for (const s of services) {
    for (const b of s.backends) {
      rows.push([s.fqdn, s.policy, formatHostPort({ host: b.address, port: b.port }), b.state, b.since.replace(/\.\d+Z$/, "Z"), b.reason]);
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  "));
  return [`node ${ready ? "ready" : "NOT READY (first probe round still running)"}`, "", ...lines].join("\n");
}
