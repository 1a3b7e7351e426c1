import type { Command } from "./command.ts";
import { apiBaseUrl } from "./api-base.ts";
import { errorMessage } from "../lib/errors.ts";

// Below Docker's default health check timeout (30 s) and the Dockerfile's (5 s), so a hung API
// is reported by us, with a reason, rather than killed.
const TIMEOUT_MS = 3000;

export const healthCommand: Command = {
  name: "health",
  summary: "ask a running node's API whether it is alive; exit 0 if so, 1 if not (for health checks)",
  usage:
    "vigil health [--api URL | --config FILE]\n\n  --api     the node's API, e.g. http://127.0.0.1:8080 (default)\n  --config  read api.address from this config file (0.0.0.0 or :: is asked on loopback)",
  async run(args) {
    try {
      const url = `${apiBaseUrl(args)}/api/v1/health`;
      const body = await getHealth(url);
      console.log(`${url}: ok (vigil ${body.version})`);
      return 0;
    } catch (err) {
      console.error(`vigil health: ${errorMessage(err)}`);
      return 1;
    }
  },
};

async function getHealth(url: string): Promise<{ status: string; version: string }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${errorMessage(err)}`);
  }
  const text = await response.text();
  if (response.status === 403) throw new Error(`${url}: refused: this address is not in the node's api.allowed_networks`);
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { status?: unknown; version?: unknown };
  if (body.status !== "ok") throw new Error(`${url} answered ${text.slice(0, 200)}, not status "ok"`);
  return { status: body.status, version: String(body.version) };
}
