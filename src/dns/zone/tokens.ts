// Splits zone-file text (RFC 1035 §5.1) into entries of tokens: ";" starts a comment, "(" … ")" joins
// lines into one entry, quotes group a string with spaces, and "\" escapes the next character.
// Tokens keep their escapes; what they mean depends on where they stand (a name, a TXT string).

import { RecordSyntaxError } from "./syntax-error.ts";

export interface Token {
  /** The raw text, escapes kept; for a quoted token, without the quotes. */
  text: string;
  quoted: boolean;
  line: number;
}

export interface Entry {
  line: number;
  /** The entry's line starts with a space or tab: the owner is the previous record's (RFC 1035 §5.1). */
  blankOwner: boolean;
  tokens: Token[];
}

const DELIMITERS = new Set([" ", "\t", "\r", "\n", ";", "(", ")", '"']);

export function tokenize(text: string): Entry[] {
  const entries: Entry[] = [];
  let current: Entry | null = null;
  let line = 1;
  let lineStartsBlank = startsBlank(text, 0);
  let depth = 0;
  let openedOn = 0;
  let i = 0;

  const add = (token: Token) => {
    current ??= { line: token.line, blankOwner: lineStartsBlank, tokens: [] };
    current.tokens.push(token);
  };
  const finish = () => {
    if (current) entries.push(current);
    current = null;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      i++;
      line++;
      if (depth === 0) finish();
      lineStartsBlank = startsBlank(text, i);
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === ";") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "(") {
      if (depth === 0) openedOn = line;
      depth++;
      i++;
    } else if (c === ")") {
      if (depth === 0) throw new RecordSyntaxError(line, '")" without a matching "("');
      depth--;
      i++;
    } else if (c === '"') {
      const end = closingQuote(text, i + 1, line);
      add({ text: text.slice(i + 1, end), quoted: true, line });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !DELIMITERS.has(text[i]!)) i += escapedPair(text, i) ? 2 : 1;
      add({ text: text.slice(start, i), quoted: false, line });
    }
  }
  if (depth > 0) throw new RecordSyntaxError(openedOn, '"(" is never closed');
  finish();
  return entries;
}

function startsBlank(text: string, at: number): boolean {
  return text[at] === " " || text[at] === "\t";
}

/** A backslash escapes the next character, but never a line break. */
function escapedPair(text: string, at: number): boolean {
  return text[at] === "\\" && at + 1 < text.length && text[at + 1] !== "\n";
}

function closingQuote(text: string, from: number, line: number): number {
  let i = from;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === "\n") break;
    i += escapedPair(text, i) ? 2 : 1;
  }
  if (text[i] !== '"') throw new RecordSyntaxError(line, "quoted string is not closed on its line");
  return i;
}
