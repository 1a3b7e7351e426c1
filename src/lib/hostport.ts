// "host:port" as operators write listen and peer addresses: "0.0.0.0:53", "[::1]:53",
// "overwatch-1.internal:7946". Port 0 is allowed: it asks the OS for a free port (tests rely on it).

import { formatIp, parseIp } from "./cidr.ts";

const HOST_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const PORT = /^(0|[1-9]\d{0,4})$/;

/** Parses host:port; IP hosts come back in canonical form without brackets, names in lower case. */
export function parseHostPort(text: string): { host: string; port: number } {
  const fail = (why?: string) =>
    new Error(`expected host:port, got ${JSON.stringify(text)}${why ? `: ${why}` : ""}`);
  let hostText: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw fail('missing "]"');
    if (text[close + 1] !== ":") throw fail('missing ":port" after "]"');
    hostText = text.slice(1, close);
    portText = text.slice(close + 2);
    const bytes = parseIp(hostText);
    if (!bytes || bytes.length !== 16) throw fail(`"${hostText}" in brackets is not an IPv6 address`);
    hostText = formatIp(bytes);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) throw fail();
    hostText = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (hostText.includes(":")) throw fail('put an IPv6 address in brackets, as in "[::1]:53"');
    if (hostText === "") throw fail('the host is missing; use "0.0.0.0" or "[::]" for every address');
    const bytes = parseIp(hostText);
    if (bytes) hostText = formatIp(bytes);
    else if (isHostName(hostText)) hostText = hostText.toLowerCase();
    else throw fail(`"${hostText}" is not an IP address or host name`);
  }
  const port = Number(portText);
  if (!PORT.test(portText) || port > 65535) throw fail("the port must be a number from 0 to 65535");
  return { host: hostText, port };
}

function isHostName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  const labels = name.split(".");
  // An all-digit last label would make "1.2.3" or "300.1.1.1" pass as a name instead of a bad address.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return false;
  return name.length <= 253 && labels.every((label) => HOST_LABEL.test(label));
}

/** The inverse of parseHostPort: brackets an IPv6 host. */
export function formatHostPort(address: { host: string; port: number }): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
