// http and https probes: one request per check on a connection of its own, redirects not followed (a
// 302 counts by its status), optionally a substring looked for in the first 64 KiB of the body.
//
// The request is written and the response read directly on the socket rather than through fetch:
// a check needs the status and at most a little of the body, and skipping the client's pool, URL and
// header objects roughly halves what a check costs (docs/benchmarks.md, "Probe scale").

import { formatHostPort } from "../../lib/hostport.ts";
import { ipFamily } from "../../lib/cidr.ts";
import { converse } from "./conversation.ts";
import { HttpResponseReader } from "./http-response.ts";
import { defineProbe, down, up, type SettingsOf, type Verdict } from "./result.ts";

const BODY_LIMIT_BYTES = 64 * 1024;
const encoder = new TextEncoder();

export const httpProbe = defineProbe(["http", "https"], (settings, target, signal) => {
  const response = new HttpResponseReader(BODY_LIMIT_BYTES, settings.method === "HEAD");
  const said = () => `HTTP ${response.status} from ${settings.path}`;
  const wanted = settings.expect_body;

  const judge = (): Verdict | undefined => {
    if (response.status === undefined) return undefined;
    if (!settings.expect_status.some((range) => response.status! >= range.from && response.status! <= range.to)) {
      return down(`${said()}, expected ${settings.expect_status.map(formatRange).join(", ")}`);
    }
    if (wanted === undefined) return up(said());
    if (response.body.text.includes(wanted)) return up(`${said()} with "${wanted}"`);
    return response.complete || response.body.full ? down(`${said()}, body lacks "${wanted}"`) : undefined;
  };

  return converse(
    target,
    {
      request: requestOf(settings, target),
      received(chunk) {
        response.feed(chunk);
        return judge();
      },
      closed() {
        response.closed();
        return judge() ?? down(response.status === undefined ? "closed before the response" : `${said()}, body cut short`);
      },
    },
    signal,
    settings.type === "https" ? { rejectUnauthorized: settings.tls_verify, serverName: serverNameOf(settings) } : undefined,
  );
});

function requestOf(settings: SettingsOf<"http" | "https">, target: { address: string; port: number }): Uint8Array {
  const host = settings.host ?? formatHostPort({ host: target.address, port: target.port });
  const length = settings.method === "POST" || settings.method === "PUT" ? "Content-Length: 0\r\n" : "";
  const head = `${settings.method} ${settings.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: vigil-health-check\r\nAccept: */*\r\n${length}Connection: close\r\n\r\n`;
  return encoder.encode(head);
}

/** `sni`, else the Host header's name; never an IP address, which TLS does not allow as a server name. */
function serverNameOf(settings: SettingsOf<"http" | "https">): string | undefined {
  if (settings.sni) return settings.sni;
  const name = settings.host?.replace(/:\d+$/, "");
  return name && !name.startsWith("[") && ipFamily(name) === null ? name : undefined;
}

function formatRange(range: { from: number; to: number }): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}
