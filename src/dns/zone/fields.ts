// Reading one record's rdata tokens in order, with errors that say which field of which type was
// wrong and on which line. Also the two zone-file value forms: names and character-strings.

import { NameError, joinName, normalizeName } from "../../lib/dns-name.ts";
import { RecordSyntaxError } from "./syntax-error.ts";
import type { Token } from "./tokens.ts";

export class RecordFields {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    /** The type as written in messages ("MX"). */
    readonly typeLabel: string,
    private readonly origin: string,
    /** The line to blame when a field is missing. */
    private readonly lastLine: number,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.index];
  }

  next(what: string): Token {
    const token = this.tokens[this.index++];
    if (!token) throw new RecordSyntaxError(this.lastLine, `expected ${what} for ${this.typeLabel}, but the record ends`);
    return token;
  }

  /** Everything not read yet (for fields that run to the end, like TXT strings or a hex digest). */
  rest(): Token[] {
    const rest = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return rest;
  }

  /** An unsigned decimal up to `max`. */
  uint(what: string, max: number): number {
    const token = this.next(`${what} (0-${max})`);
    const value = /^\d+$/.test(token.text) && !token.quoted ? Number(token.text) : NaN;
    if (!(value <= max)) this.reject(token, `${what} (0-${max})`);
    return value;
  }

  name(what: string): string {
    const token = this.next(what);
    if (token.quoted) this.reject(token, what);
    try {
      return zoneFileName(token.text, this.origin);
    } catch (err) {
      if (err instanceof NameError) this.reject(token, what, err.message);
      throw err;
    }
  }

  /** A character-string field's bytes (quoted or not). */
  characterString(token: Token, what: string): Uint8Array {
    return decodeCharacterString(token.text) ?? this.reject(token, what, "bad escape");
  }

  reject(token: Token, what: string, why?: string): never {
    const detail = why ? ` (${why})` : "";
    throw new RecordSyntaxError(token.line, `expected ${what} for ${this.typeLabel}, got "${token.text}"${detail}`);
  }

  /** The record must have no more tokens. */
  end(): void {
    const extra = this.tokens[this.index];
    if (extra) throw new RecordSyntaxError(extra.line, `unexpected "${extra.text}" after the ${this.typeLabel} data`);
  }
}

/** A name as a zone file writes it: "@" is the origin, a trailing dot makes it absolute, else it is relative. */
export function zoneFileName(text: string, origin: string): string {
  if (text === "@") return origin;
  if (!endsWithUnescapedDot(text)) return normalizeName(joinName(text, origin));
  const withoutDot = text.slice(0, -1);
  if (endsWithUnescapedDot(withoutDot)) throw new NameError(`empty label in "${text}"`);
  return normalizeName(withoutDot);
}

function endsWithUnescapedDot(text: string): boolean {
  if (!text.endsWith(".")) return false;
  let backslashes = 0;
  for (let i = text.length - 2; i >= 0 && text[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 0;
}

const utf8 = new TextEncoder();

/**
 * A character-string's bytes (RFC 1035 §5.1): "\X" is X, "\DDD" is the byte DDD, other text is UTF-8.
 * Null when an escape is bad (over 255, or a lone backslash at the end).
 */
function decodeCharacterString(text: string): Uint8Array | null {
  const out: number[] = [];
  let plainStart = 0;
  const flushPlain = (end: number) => out.push(...utf8.encode(text.slice(plainStart, end)));
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") continue;
    flushPlain(i);
    const digits = text.slice(i + 1, i + 4);
    if (/^\d{3}$/.test(digits)) {
      if (Number(digits) > 255) return null;
      out.push(Number(digits));
      i += 3;
    } else if (i + 1 < text.length) {
      const escaped = String.fromCodePoint(text.codePointAt(i + 1)!);
      out.push(...utf8.encode(escaped));
      i += escaped.length;
    } else return null;
    plainStart = i + 1;
  }
  flushPlain(text.length);
  return Uint8Array.from(out);
}
