// http and https probes: one request per check, redirects not followed (a 302 counts by its status),
// optionally a substring looked for in the first 64 KiB of the body.

import { formatHostPort } from "../../lib/hostport.ts";
import { ipFamily } from "../../lib/cidr.ts";
import { CappedText, defineProbe, describeError, down, up, type SettingsOf } from "./result.ts";

const BODY_LIMIT_BYTES = 64 * 1024;

// Every probe opens and closes its own connection: nothing idles in a pool however many backends are
// probed, and each check really tests that the backend accepts a connection. The session closes the
// socket after the response whatever the server does; "Connection: close" tells the server so too.
const session = new Bun.FetchSession({ keepAlive: false });

export const httpProbe = defineProbe(["http", "https"], async (settings, target, signal) => {
  const url = `${settings.type}://${formatHostPort({ host: target.address, port: target.port })}${settings.path}`;
  const headers: Record<string, string> = { connection: "close", "user-agent": "vigil-health-check" };
  if (settings.host) headers.host = settings.host;
  let response: Response;
  try {
    response = await session.fetch(url, {
      method: settings.method,
      headers,
      redirect: "manual",
      signal,
      tls: settings.type === "https" ? { rejectUnauthorized: settings.tls_verify, serverName: serverNameOf(settings) } : undefined,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    return down(describeFetchError(err));
  }

  const said = `HTTP ${response.status} from ${settings.path}`;
  if (!settings.expect_status.some((range) => response.status >= range.from && response.status <= range.to)) {
    await discardBody(response);
    return down(`${said}, expected ${settings.expect_status.map(formatRange).join(", ")}`);
  }
  if (settings.expect_body === undefined) {
    await discardBody(response);
    return up(said);
  }
  return (await bodyContains(response, settings.expect_body))
    ? up(`${said} with "${settings.expect_body}"`)
    : down(`${said}, body lacks "${settings.expect_body}"`);
});

/** `sni`, else the Host header's name; never an IP address, which TLS does not allow as a server name. */
function serverNameOf(settings: SettingsOf<"http" | "https">): string | undefined {
  if (settings.sni) return settings.sni;
  const name = settings.host?.replace(/:\d+$/, "");
  return name && !name.startsWith("[") && ipFamily(name) === null ? name : undefined;
}

function formatRange(range: { from: number; to: number }): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}

async function bodyContains(response: Response, wanted: string): Promise<boolean> {
  const reader = response.body?.getReader();
  if (!reader) return wanted === "";
  const body = new CappedText(BODY_LIMIT_BYTES);
  try {
    while (!body.full && !body.text.includes(wanted)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      body.add(chunk.value);
    }
    return body.text.includes(wanted);
  } finally {
    // The verdict is known; a failure to cancel the rest changes nothing.
    await reader.cancel().catch(() => undefined);
  }
}

async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

// fetch's own error codes, as an operator would say them.
const FETCH_PHRASES: Record<string, string> = {
  EPROTO: "TLS handshake failed",
  Malformed_HTTP_Response: "malformed HTTP response",
};

function describeFetchError(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code !== "string") return describeError(err);
  if (FETCH_PHRASES[code]) return FETCH_PHRASES[code];
  // Certificate problems come with OpenSSL's codes: SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID...
  if (/CERT|SELF_SIGNED|ALTNAME/.test(code)) return `TLS certificate rejected: ${String(message)} (${code})`;
  return describeError(err);
}
