// The parsed YAML as a small tree of our own, each node carrying its source line. The walker, the
// ${ENV} pass and schema defaults (plain values) all work on this one shape, whatever the YAML
// library's node classes look like.

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import type { Issues } from "./issues.ts";

export interface RawScalar {
  kind: "scalar";
  value: string | number | boolean | null;
  /** The text as written: "0x1F" for the number 31, so a string key keeps what the operator typed. */
  text: string;
  line?: number;
  /** Set when ${VAR} substitution produced the text; numbers and booleans may then arrive as text. */
  fromEnv?: boolean;
}

export interface RawEntry {
  key: string;
  keyLine?: number;
  value: Raw;
}

export type Raw =
  | RawScalar
  | { kind: "list"; items: Raw[]; line?: number }
  | { kind: "map"; entries: RawEntry[]; line?: number };

/** Converts a parsed document; an empty document is an empty map. */
export function fromYaml(doc: Document, lines: LineCounter, issues: Issues): Raw {
  const lineAt = (node: Node) => (node.range ? lines.linePos(node.range[0]).line : undefined);
  const convert = (node: unknown, path: string): Raw => {
    if (isAlias(node)) return convert(node.resolve(doc), path);
    if (isMap(node)) {
      const entries: RawEntry[] = [];
      for (const pair of node.items) {
        const keyLine = isScalar(pair.key) ? lineAt(pair.key) : undefined;
        if (!isScalar(pair.key) || pair.key.value === null || typeof pair.key.value === "object") {
          issues.add(path, "map keys must be plain words", keyLine ?? lineAt(node));
          continue;
        }
        const key = String(pair.key.value);
        const child = childPath(path, key);
        const value = pair.value == null ? nullAt(keyLine) : convert(pair.value, child);
        entries.push({ key, keyLine, value: value.line === undefined ? { ...value, line: keyLine } : value });
      }
      return { kind: "map", entries, line: lineAt(node) };
    }
    if (isSeq(node)) {
      return { kind: "list", items: node.items.map((item, i) => convert(item, itemPath(path, i))), line: lineAt(node) };
    }
    if (isScalar(node)) return scalarOf(node.value, node.source, lineAt(node));
    return nullAt(undefined);
  };
  return doc.contents == null ? { kind: "map", entries: [] } : convert(doc.contents, "");
}

function scalarOf(value: unknown, source: string | undefined, line: number | undefined): RawScalar {
  if (value === null || value === undefined) return { kind: "scalar", value: null, text: "", line };
  if (typeof value === "string") return { kind: "scalar", value, text: value, line };
  if (typeof value === "number" || typeof value === "boolean") {
    return { kind: "scalar", value, text: source || String(value), line };
  }
  // Tagged oddities (!!binary and the like) are taken as their text.
  const text = source || String(value);
  return { kind: "scalar", value: text, text, line };
}

function nullAt(line: number | undefined): RawScalar {
  return { kind: "scalar", value: null, text: "", line };
}

/** A schema default (a plain JS value, written as in YAML) as a tree without lines. */
export function fromPlain(value: unknown): Raw {
  if (Array.isArray(value)) return { kind: "list", items: value.map(fromPlain) };
  if (value !== null && typeof value === "object") {
    return { kind: "map", entries: Object.entries(value).map(([key, v]) => ({ key, value: fromPlain(v) })) };
  }
  return scalarOf(value, undefined, undefined);
}

export function isUnset(raw: Raw | undefined): boolean {
  return raw === undefined || (raw.kind === "scalar" && raw.value === null);
}

/** How a value reads in an error message: strings quoted, collections by kind. */
export function describe(raw: Raw): string {
  if (raw.kind === "list") return "a list";
  if (raw.kind === "map") return "a map";
  if (raw.value === null) return "nothing";
  if (typeof raw.value !== "string") return raw.text;
  const shown = raw.value.length > 60 ? `${raw.value.slice(0, 57)}...` : raw.value;
  return JSON.stringify(shown);
}

export function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

export function itemPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
