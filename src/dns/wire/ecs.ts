// The EDNS Client Subnet option (RFC 7871 §6): read and check it in a query, build the echo for the response.

import { EdnsOption } from "../types.ts";
import type { ClientSubnet } from "./types.ts";

const FAMILY_IPV4 = 1;
const FAMILY_IPV6 = 2;
const MAX_SOURCE_PREFIX = [0, 32, 128] as const;
/** FAMILY (2), SOURCE PREFIX-LENGTH (1), SCOPE PREFIX-LENGTH (1). */
const FIXED_PART = 4;

/**
 * The client subnet in the option data at buf[start..end), or null when a query must not carry it
 * (RFC 7871 §7.1.1 asks for FORMERR): an unknown family, a source prefix too long for the family, a
 * non-zero scope, an address not exactly ceil(source / 8) bytes long, or address bits set past the prefix.
 */
export function readClientSubnet(buf: Uint8Array, start: number, end: number): ClientSubnet | null {
  if (end - start < FIXED_PART) return null;
  const family = (buf[start]! << 8) | buf[start + 1]!;
  const sourcePrefix = buf[start + 2]!;
  const scopePrefix = buf[start + 3]!;
  if (family !== FAMILY_IPV4 && family !== FAMILY_IPV6) return null;
  if (sourcePrefix > MAX_SOURCE_PREFIX[family] || scopePrefix !== 0) return null;
  const addressStart = start + FIXED_PART;
  if (end - addressStart !== Math.ceil(sourcePrefix / 8)) return null;
  const spareBits = (8 - (sourcePrefix % 8)) % 8;
  if (spareBits > 0 && (buf[end - 1]! & ((1 << spareBits) - 1)) !== 0) return null;
  // A copy, as the socket reuses the query buffer; a loop, as slice costs several times more for 16 bytes.
  const address = new Uint8Array(end - addressStart);
  for (let i = 0; i < address.length; i++) address[i] = buf[addressStart + i]!;
  return { family, sourcePrefix, scopePrefix, address };
}

/** The ECS option for a response: the query's family, source prefix and address, with our scope (RFC 7871 §7.2.1). */
export function encodeEcsOption(cs: ClientSubnet, scopePrefix: number): { code: 8; data: Uint8Array } {
  const data = new Uint8Array(FIXED_PART + cs.address.length);
  data[1] = cs.family;
  data[2] = cs.sourcePrefix;
  data[3] = scopePrefix;
  data.set(cs.address, FIXED_PART);
  return { code: EdnsOption.ECS, data };
}
