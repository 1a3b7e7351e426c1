// Where a CLI command finds a running node's API: --api URL, or api.address from --config FILE, or
// the default address.
import { option } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import { formatHostPort } from "../lib/hostport.ts";

export const DEFAULT_API_URL = "http://127.0.0.1:8080";

/** A listener on every interface ("0.0.0.0", "::") is asked on loopback: it listens there too. */
const REACHABLE_AT: Record<string, string> = { "0.0.0.0": "127.0.0.1", "::": "::1" };

/** The API's base URL, without a trailing slash. Throws the config's own error for a bad --config file. */
export function apiBaseUrl(args: string[]): string {
  const url = option(args, "--api");
  if (url) return url.replace(/\/+$/, "");
  const configPath = option(args, "--config", "-c");
  if (!configPath) return DEFAULT_API_URL;
  const api = loadConfigFile(configPath).api;
  if (!api.enabled) throw new Error(`${configPath} turns the API off (api.enabled: false): there is nothing to ask`);
  return `http://${formatHostPort({ host: REACHABLE_AT[api.address.host] ?? api.address.host, port: api.address.port })}`;
}
