// IP addresses and CIDR blocks as bytes, so matching a client (or an ECS subnet) is a byte compare.
// Parsing is strict: no leading zeros in IPv4 octets (they read as octal elsewhere), no IPv6 zone ids.

export interface Cidr {
  family: 4 | 6;
  /** The network address with host bits zero: 4 or 16 bytes. */
  bytes: Uint8Array;
  prefix: number;
}

// Up to three digits without a leading zero: an IPv4 octet or a prefix length.
const SMALL_DECIMAL = /^(0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses an IPv4 or IPv6 address into 4 or 16 bytes; null when it is not one. */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

export function ipFamily(text: string): 4 | 6 | null {
  const bytes = parseIp(text);
  if (!bytes) return null;
  return bytes.length === 4 ? 4 : 6;
}

export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!SMALL_DECIMAL.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  // A dotted IPv4 tail may only end the whole address.
  const head = parseGroups(halves[0]!, !compressed);
  const tail = compressed ? parseGroups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const total = head.length + tail.length;
  if (compressed ? total > 7 : total !== 8) return null;
  const bytes = new Uint8Array(16);
  const write = (groups: number[], start: number) =>
    groups.forEach((group, i) => {
      bytes[(start + i) * 2] = group >> 8;
      bytes[(start + i) * 2 + 1] = group & 0xff;
    });
  write(head, 0);
  write(tail, 8 - tail.length);
  return bytes;
}

/** Splits "a:b:c" (possibly ending in a dotted IPv4 address) into 16-bit groups. */
function parseGroups(text: string, mayEndInIpv4: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const isLast = i === parts.length - 1;
    if (isLast && mayEndInIpv4 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (IPV6_GROUP.test(part)) groups.push(parseInt(part, 16));
    else return null;
  }
  return groups;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  const zeros = longestZeroRun(groups);
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (zeros.length < 2) return hex(groups);
  return `${hex(groups.slice(0, zeros.start))}::${hex(groups.slice(zeros.start + zeros.length))}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

/** Parses "10.0.0.0/8" or "2001:db8::/32"; throws an Error saying what is wrong. */
export function parseCidr(text: string): Cidr {
  const fail = (why: string) => new Error(`expected a CIDR such as "10.0.0.0/8", got ${JSON.stringify(text)}: ${why}`);
  const slash = text.indexOf("/");
  if (slash < 0) throw fail('missing "/prefix"');
  const bytes = parseIp(text.slice(0, slash));
  if (!bytes) throw fail(`"${text.slice(0, slash)}" is not an IP address`);
  const family = bytes.length === 4 ? 4 : 6;
  const maxPrefix = bytes.length * 8;
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!SMALL_DECIMAL.test(prefixText) || prefix > maxPrefix) throw fail(`prefix must be 0 to ${maxPrefix}`);
  const network = maskTo(bytes, prefix);
  if (!network.every((b, i) => b === bytes[i])) {
    throw fail(`host bits are set; the network is ${formatIp(network)}/${prefix}`);
  }
  return { family, bytes: network, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.bytes)}/${cidr.prefix}`;
}

function maskTo(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** True when the first prefixLen bits of addr and prefix are equal. */
export function prefixMatches(addr: Uint8Array, prefix: Uint8Array, prefixLen: number): boolean {
  const whole = prefixLen >> 3;
  for (let i = 0; i < whole; i++) if (addr[i] !== prefix[i]) return false;
  const rest = prefixLen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[whole]! & mask) === (prefix[whole]! & mask);
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The IPv4 address inside ::ffff:a.b.c.d, or null. */
function unmapV4(addr: Uint8Array): Uint8Array | null {
  if (addr.length !== 16 || !V4_MAPPED_PREFIX.every((b, i) => addr[i] === b)) return null;
  return addr.subarray(12);
}

function mapV4(addr: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(V4_MAPPED_PREFIX);
  out.set(addr, 12);
  return out;
}

/** True when addr (4 or 16 bytes) lies in the block; an IPv4-mapped IPv6 address counts as IPv4. */
export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  let candidate: Uint8Array | null = addr;
  if (cidr.family === 4 && addr.length === 16) candidate = unmapV4(addr);
  else if (cidr.family === 6 && addr.length === 4) candidate = mapV4(addr);
  if (!candidate || candidate.length !== cidr.bytes.length) return false;
  return prefixMatches(candidate, cidr.bytes, cidr.prefix);
}
