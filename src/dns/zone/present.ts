// Records in zone-file presentation form ("www.example.com. 300 IN A 192.0.2.1"), for tests,
// the API and the CLI. Data that does not decode as its type is shown in the RFC 3597 generic form.

import { fqdn } from "../../lib/dns-name.ts";
import type { RData, RR, RRset } from "../types.ts";
import { RRType } from "../types.ts";
import { formatIp } from "../../lib/cidr.ts";
import { typeName } from "./type-names.ts";

export function formatRR(rr: RR): string {
  return `${fqdn(rr.name)} ${rr.ttl} IN ${typeName(rr.type)} ${formatRdata(rr.type, rr.rdata)}`;
}

/** One line per record of the set. */
export function formatRRset(set: RRset): string[] {
  return set.rdata.map((rdata) => formatRR({ name: set.name, type: set.type, ttl: set.ttl, rdata }));
}

export function formatRdata(type: number, rdata: RData): string {
  switch (rdata.kind) {
    case "name":
      return fqdn(rdata.target);
    case "mx":
      return `${rdata.preference} ${fqdn(rdata.exchange)}`;
    case "srv":
      return `${rdata.priority} ${rdata.weight} ${rdata.port} ${fqdn(rdata.target)}`;
    case "soa":
      return [fqdn(rdata.mname), fqdn(rdata.rname), rdata.serial, rdata.refresh, rdata.retry, rdata.expire, rdata.minimum].join(" ");
    case "bytes":
      return formatBytes(type, rdata.bytes) ?? `\\# ${rdata.bytes.length} ${hex(rdata.bytes)}`.trimEnd();
  }
}

/** The type's own form, or null when the bytes do not fit it. */
function formatBytes(type: number, bytes: Uint8Array): string | null {
  switch (type) {
    case RRType.A:
      return bytes.length === 4 ? formatIp(bytes) : null;
    case RRType.AAAA:
      return bytes.length === 16 ? formatIp(bytes) : null;
    case RRType.TXT:
      return formatTxt(bytes);
    case RRType.CAA:
      return formatCaa(bytes);
    case RRType.DS:
      return bytes.length > 4 ? `${(bytes[0]! << 8) | bytes[1]!} ${bytes[2]} ${bytes[3]} ${hex(bytes.subarray(4))}` : null;
    default:
      return null;
  }
}

function formatTxt(bytes: Uint8Array): string | null {
  const strings: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = at + 1 + bytes[at]!;
    if (end > bytes.length) return null;
    strings.push(quoted(bytes.subarray(at + 1, end)));
    at = end;
  }
  return strings.length > 0 ? strings.join(" ") : null;
}

function formatCaa(bytes: Uint8Array): string | null {
  if (bytes.length < 2) return null;
  const tagEnd = 2 + bytes[1]!;
  if (tagEnd > bytes.length) return null;
  const tag = String.fromCharCode(...bytes.subarray(2, tagEnd));
  if (!/^[a-z0-9]+$/i.test(tag)) return null;
  return `${bytes[0]} ${tag} ${quoted(bytes.subarray(tagEnd))}`;
}

/** A quoted character-string: '"' and '\' escaped, bytes outside printable ASCII as \DDD. */
function quoted(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) s += "\\" + String.fromCharCode(b);
    else if (b < 0x20 || b >= 0x7f) s += "\\" + String(b).padStart(3, "0");
    else s += String.fromCharCode(b);
  }
  return `"${s}"`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join("");
}
