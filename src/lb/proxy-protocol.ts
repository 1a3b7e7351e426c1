// PROXY protocol headers a balancer sends to a backend before the client's bytes, so the backend
// learns who the client really is (haproxy's proxy-protocol.txt). v1 is one text line; v2 is binary.
// "Source" is the client, "destination" is the address the client connected to (our listener).

import { cidrContains, formatIp, parseCidr, parseIp } from "../lib/cidr.ts";

export interface Endpoint {
  address: string;
  port: number;
}

export type ProxyTransport = "tcp" | "udp";

/** The twelve bytes every v2 header starts with. */
export const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
/** Version 2 in the high nibble, command PROXY (1) in the low one. */
const V2_PROXY_COMMAND = 0x21;
const V2_FAMILY_INET = 0x10;
const V2_FAMILY_INET6 = 0x20;
const V2_STREAM = 0x01;
const V2_DGRAM = 0x02;

export function proxyHeader(version: 1 | 2, transport: ProxyTransport, source: Endpoint, destination: Endpoint): Uint8Array {
  return version === 1 ? proxyHeaderV1(transport, source, destination) : proxyHeaderV2(transport, source, destination);
}

/** "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"; v1 has no way to say UDP. */
export function proxyHeaderV1(transport: ProxyTransport, source: Endpoint, destination: Endpoint): Uint8Array {
  if (transport !== "tcp") throw new Error("PROXY protocol v1 only describes TCP connections; use version 2 for UDP");
  const { src, dst } = sameFamily(source, destination);
  const family = src.length === 4 ? "TCP4" : "TCP6";
  const line = `PROXY ${family} ${formatIp(src)} ${formatIp(dst)} ${checkPort(source.port)} ${checkPort(destination.port)}\r\n`;
  return new TextEncoder().encode(line);
}

/** Signature, version/command, family/transport, length, then addresses and ports in network order. */
export function proxyHeaderV2(transport: ProxyTransport, source: Endpoint, destination: Endpoint): Uint8Array {
  const { src, dst } = sameFamily(source, destination);
  const addressBytes = src.length * 2 + 4;
  const header = new Uint8Array(16 + addressBytes);
  header.set(V2_SIGNATURE, 0);
  header[12] = V2_PROXY_COMMAND;
  header[13] = (src.length === 4 ? V2_FAMILY_INET : V2_FAMILY_INET6) | (transport === "tcp" ? V2_STREAM : V2_DGRAM);
  const view = new DataView(header.buffer);
  view.setUint16(14, addressBytes);
  header.set(src, 16);
  header.set(dst, 16 + src.length);
  view.setUint16(16 + src.length * 2, checkPort(source.port));
  view.setUint16(18 + src.length * 2, checkPort(destination.port));
  return header;
}

/**
 * Both addresses in one family, as both versions require: an IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for an IPv4 client) counts as IPv4, and a remaining mix is written as IPv6.
 */
function sameFamily(source: Endpoint, destination: Endpoint): { src: Uint8Array; dst: Uint8Array } {
  let src = unmapped(addressBytes(source.address));
  let dst = unmapped(addressBytes(destination.address));
  if (src.length !== dst.length) {
    src = mapped(src);
    dst = mapped(dst);
  }
  return { src, dst };
}

function addressBytes(address: string): Uint8Array {
  const bytes = parseIp(address);
  if (!bytes) throw new Error(`PROXY protocol header: ${JSON.stringify(address)} is not an IP address`);
  return bytes;
}

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), matched and built with the shared CIDR helpers.
const V4_MAPPED = parseCidr("::ffff:0.0.0.0/96");

function unmapped(bytes: Uint8Array): Uint8Array {
  return bytes.length === 16 && cidrContains(V4_MAPPED, bytes) ? bytes.subarray(12) : bytes;
}

function mapped(bytes: Uint8Array): Uint8Array {
  return bytes.length === 16 ? bytes : parseIp(`::ffff:${formatIp(bytes)}`)!;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PROXY protocol header: port ${port} is out of range`);
  return port;
}
