// Builders for single-value keys. Each parses what the operator wrote into its normalized form or
// throws an Error whose message is the problem as the operator will read it.

import { formatCidr, formatIp, parseCidr, parseIp } from "../lib/cidr.ts";
import { parseDuration } from "../lib/duration.ts";
import { errorMessage } from "../lib/errors.ts";
import { parseHostPort } from "../lib/hostport.ts";
import { normalizeName } from "../lib/dns-name.ts";
import type { Meta, ScalarNode } from "./nodes.ts";
import { describe, type RawScalar } from "./raw.ts";
import { closest } from "./suggest.ts";

export function scalar(type: string, expected: string, parse: (raw: RawScalar) => unknown, meta: Meta): ScalarNode {
  return { kind: "scalar", type, expected, parse, ...meta };
}

export function mismatch(expected: string, raw: RawScalar): Error {
  return new Error(`expected ${expected}, got ${describe(raw)}`);
}

/** A string; numbers and booleans are taken as written (a token of 0123 stays "0123"). */
export function str(meta: Meta & { allowEmpty?: boolean }): ScalarNode {
  const { allowEmpty = false, ...rest } = meta;
  const expected = allowEmpty ? "a string" : "a non-empty string";
  return scalar("string", expected, (raw) => {
    if (!allowEmpty && raw.text.trim() === "") throw mismatch(expected, raw);
    return raw.text;
  }, rest);
}

function rangePhrase(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  return max !== undefined ? ` of at most ${max}` : "";
}

/** A number from the YAML, or from ${VAR} text (which always arrives as a string). */
function numberOf(raw: RawScalar): number | undefined {
  if (typeof raw.value === "number") return raw.value;
  if (raw.fromEnv && /^-?\d+(\.\d+)?$/.test(raw.text.trim())) return Number(raw.text);
  return undefined;
}

export function int(meta: Meta & { min?: number; max?: number }): ScalarNode {
  const { min, max, ...rest } = meta;
  const expected = `an integer${rangePhrase(min, max)}`;
  return scalar(`integer${rangePhrase(min, max)}`, expected, (raw) => {
    const n = numberOf(raw);
    if (n === undefined || !Number.isInteger(n) || n < (min ?? -Infinity) || n > (max ?? Infinity)) {
      throw mismatch(expected, raw);
    }
    return n;
  }, rest);
}

export function num(meta: Meta & { min: number; max: number }): ScalarNode {
  const { min, max, ...rest } = meta;
  const expected = `a number${rangePhrase(min, max)}`;
  return scalar(`number${rangePhrase(min, max)}`, expected, (raw) => {
    const n = numberOf(raw);
    if (n === undefined || n < min || n > max) throw mismatch(expected, raw);
    return n;
  }, rest);
}

export function bool(meta: Meta): ScalarNode {
  return scalar("boolean", "true or false", (raw) => {
    if (typeof raw.value === "boolean") return raw.value;
    if (raw.fromEnv && (raw.text === "true" || raw.text === "false")) return raw.text === "true";
    throw mismatch("true or false", raw);
  }, meta);
}

export function enumOf(values: readonly string[], meta: Meta): ScalarNode {
  const expected = `one of ${values.join(", ")}`;
  return scalar(values.join(" | "), expected, (raw) => {
    if (typeof raw.value === "string" && values.includes(raw.value)) return raw.value;
    const guess = closest(raw.text, values);
    throw new Error(`${mismatch(expected, raw).message}${guess ? `; did you mean "${guess}"?` : ""}`);
  }, meta);
}

/** Milliseconds from "500ms", "5s", "1h30m"; a bare number is refused because its unit is a guess. */
export function duration(meta: Meta & { positive?: boolean }): ScalarNode {
  const { positive = false, ...rest } = meta;
  return scalar("duration", "a duration", (raw) => {
    const ms = parseDuration(raw.text);
    if (positive && ms === 0) throw new Error(`expected a duration longer than 0s, got ${describe(raw)}`);
    return ms;
  }, rest);
}

export function hostPort(meta: Meta): ScalarNode {
  return scalar("host:port", "host:port", (raw) => parseHostPort(raw.text), meta);
}

/** An IPv4 or IPv6 address, in canonical form. */
export function ip(meta: Meta): ScalarNode {
  return scalar("IP address", "an IP address", (raw) => {
    const bytes = parseIp(raw.text);
    if (!bytes) throw mismatch("an IP address", raw);
    return formatIp(bytes);
  }, meta);
}

export function cidr(meta: Meta): ScalarNode {
  return scalar("CIDR", "a CIDR", (raw) => formatCidr(parseCidr(raw.text)), meta);
}

export function httpUrl(meta: Meta): ScalarNode {
  const expected = "an http:// or https:// URL";
  return scalar("URL", expected, (raw) => {
    if (!URL.canParse(raw.text) || !/^https?:$/.test(new URL(raw.text).protocol)) throw mismatch(expected, raw);
    return raw.text;
  }, meta);
}

const NAME_CHARACTERS = /^[A-Za-z0-9_.-]+$/;

/** A domain name, lower case without the trailing dot. */
export function domainName(meta: Meta): ScalarNode {
  return scalar("domain name", "a domain name", (raw) => readDomainName(raw, raw.text), meta);
}

/** A TLS server name: a host name, or "*.parent" for any one label under parent, as certificates match. */
export function serverName(meta: Meta): ScalarNode {
  return scalar("server name", 'a host name or "*.example.com"', (raw) => {
    const wildcard = raw.text.startsWith("*.");
    const name = readDomainName(raw, wildcard ? raw.text.slice(2) : raw.text);
    return wildcard ? `*.${name}` : name;
  }, meta);
}

function readDomainName(raw: RawScalar, text: string): string {
  if (!NAME_CHARACTERS.test(text)) {
    throw new Error(`${mismatch("a domain name", raw).message}: use letters, digits, "-", "_" and "."`);
  }
  let name: string;
  try {
    name = normalizeName(text);
  } catch (err) {
    throw new Error(`${mismatch("a domain name", raw).message}: ${errorMessage(err)}`);
  }
  if (name === "") throw mismatch("a domain name below the root", raw);
  return name;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A key given as base64; errors never echo the value, since it is a secret. */
export function base64Key(meta: Meta & { bytes: number }): ScalarNode {
  const { bytes, ...rest } = meta;
  const expected = `base64 of exactly ${bytes} bytes (make one with: openssl rand -base64 ${bytes})`;
  return scalar(`base64, ${bytes} bytes`, expected, (raw) => {
    const text = raw.text.trim();
    if (!BASE64.test(text) || text.length % 4 !== 0) throw new Error(`expected ${expected}, got text that is not base64`);
    const length = Buffer.from(text, "base64").length;
    if (length !== bytes) throw new Error(`expected ${expected}, got ${length} bytes`);
    return text;
  }, rest);
}
