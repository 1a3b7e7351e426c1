// dns.records: static records in zone-file syntax (RFC 1035 §5) → RR[]. Supports $ORIGIN and $TTL
// (RFC 2308 §4), owners that are absolute, relative, "@" or blank (the previous owner), TTL and class
// in either order, and the types in rdata.ts. A record without a TTL takes the current $TTL, else
// the given default (not the previous record's TTL, which RFC 1035 allowed but RFC 2308 replaced).

import { NameError } from "../../lib/dns-name.ts";
import type { RR } from "../types.ts";
import { RRType } from "../types.ts";
import { RecordFields, zoneFileName } from "./fields.ts";
import { parseRdata } from "./rdata.ts";
import { RecordSyntaxError } from "./syntax-error.ts";
import { type Entry, type Token, tokenize } from "./tokens.ts";
import { typeFromName, typeName } from "./type-names.ts";

export { RecordSyntaxError } from "./syntax-error.ts";

export interface RecordTextOptions {
  /** Origin for relative names until a $ORIGIN; vigil passes the first zone. */
  origin: string;
  /** Seconds, for records without a TTL until a $TTL. */
  defaultTtl: number;
}

const MAX_TTL = 0x7fffffff; // RFC 2181 §8
const TTL = /^(\d+|(\d+[smhdw])+)$/i;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const CLASS = /^(IN|CH|HS|CS|CLASS\d+)$/i;

const NSEC3 = 50;
const NSEC3PARAM = 51;
const DNSSEC_TYPES = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, NSEC3, NSEC3PARAM, RRType.CDS, RRType.CDNSKEY]);

export function parseRecords(text: string, options: RecordTextOptions): RR[] {
  let origin = options.origin;
  let defaultTtl = options.defaultTtl;
  let previousOwner: string | undefined;
  const records: RR[] = [];

  for (const entry of tokenize(text)) {
    const first = entry.tokens[0]!;
    if (!first.quoted && first.text.startsWith("$")) {
      const value = directiveValue(entry);
      const directive = first.text.toUpperCase();
      if (directive === "$ORIGIN") origin = nameOrThrow(value, origin, "$ORIGIN name");
      else if (directive === "$TTL") defaultTtl = parseTtl(value);
      else throw new RecordSyntaxError(first.line, `${first.text} is not supported (only $ORIGIN and $TTL are)`);
      continue;
    }

    let rest = entry.tokens;
    if (!entry.blankOwner) {
      previousOwner = nameOrThrow(first, origin, "owner name");
      rest = rest.slice(1);
    } else if (previousOwner === undefined) {
      throw new RecordSyntaxError(entry.line, "the line starts with a blank, but there is no previous owner name to repeat");
    }

    let ttl: number | undefined;
    let sawClass = false;
    while (rest[0]) {
      if (ttl === undefined && TTL.test(rest[0].text)) ttl = parseTtl(rest[0]);
      else if (!sawClass && CLASS.test(rest[0].text)) {
        checkClass(rest[0]);
        sawClass = true;
      } else break;
      rest = rest.slice(1);
    }

    const typeToken = rest[0];
    const lastLine = entry.tokens[entry.tokens.length - 1]!.line;
    if (!typeToken) throw new RecordSyntaxError(lastLine, "expected a record type, but the record ends");
    const type = recordType(typeToken);
    const fields = new RecordFields(rest.slice(1), typeName(type), origin, lastLine);
    records.push({ name: previousOwner, type, ttl: ttl ?? defaultTtl, rdata: parseRdata(type, fields) });
  }
  return records;
}

function directiveValue(entry: Entry): Token {
  const [directive, value, extra] = entry.tokens;
  if (!value) throw new RecordSyntaxError(entry.line, `${directive!.text} needs a value`);
  if (extra) throw new RecordSyntaxError(extra.line, `unexpected "${extra.text}" after ${directive!.text}`);
  return value;
}

function nameOrThrow(token: Token, origin: string, what: string): string {
  try {
    if (token.quoted) throw new NameError("a name is not quoted");
    return zoneFileName(token.text, origin);
  } catch (err) {
    if (err instanceof NameError) throw new RecordSyntaxError(token.line, `bad ${what} "${token.text}": ${err.message}`);
    throw err;
  }
}

/** "3600", or with units "1h30m" (as BIND and most zone files accept). */
function parseTtl(token: Token): number {
  if (!TTL.test(token.text)) throw new RecordSyntaxError(token.line, `expected a TTL, got "${token.text}"`);
  const seconds = /^\d+$/.test(token.text)
    ? Number(token.text)
    : [...token.text.matchAll(/(\d+)([a-z])/gi)].reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit!.toLowerCase()]!, 0);
  if (seconds > MAX_TTL) throw new RecordSyntaxError(token.line, `TTL ${token.text} is over ${MAX_TTL} seconds`);
  return seconds;
}

function checkClass(token: Token): void {
  const upper = token.text.toUpperCase();
  if (upper !== "IN" && upper !== "CLASS1") {
    throw new RecordSyntaxError(token.line, `only class IN is served, got "${token.text}"`);
  }
}

function recordType(token: Token): number {
  const type = token.quoted ? undefined : typeFromName(token.text);
  const fail = (problem: string) => new RecordSyntaxError(token.line, problem);
  if (type === undefined) {
    throw fail(`unknown record type "${token.text}" (write other types as TYPE<number> \\# <length> <hex>, RFC 3597)`);
  }
  if (type === RRType.SOA) throw fail("SOA is not allowed in dns.records: vigil builds each zone's SOA from dns.soa");
  if (DNSSEC_TYPES.has(type)) throw fail(`${typeName(type)} is not allowed in dns.records: vigil makes its DNSSEC records itself`);
  // 0 is reserved, OPT is per message, 128-255 are query types (RFC 6895 §3.1).
  if (type === 0 || type === RRType.OPT || (type >= 128 && type <= 255)) throw fail(`${token.text} is not a type of zone data`);
  return type;
}
