// The one pass that checks a raw YAML tree against the schema and builds the normalized value.
// It never stops at the first problem: a bad key is reported and left out, and the walk goes on.

import { errorMessage } from "../lib/errors.ts";
import type { Issues } from "./issues.ts";
import type { Fields, Finish, ListNode, MapNode, SchemaNode, UnionNode, Unique } from "./nodes.ts";
import { childPath, describe, fromPlain, isUnset, itemPath, type Raw } from "./raw.ts";
import { closest } from "./suggest.ts";

/** Reads raw (undefined when the key is absent) as node; undefined when absent without default, or wrong. */
export function readNode(node: SchemaNode, raw: Raw | undefined, path: string, issues: Issues): unknown {
  if (raw === undefined || isUnset(raw)) return readAbsent(node, path, issues);
  issues.seen(path, raw.line);
  switch (node.kind) {
    case "scalar":
      if (raw.kind !== "scalar") return reportMismatch(issues, path, node.expected, raw);
      try {
        return node.parse(raw);
      } catch (err) {
        issues.add(path, errorMessage(err), raw.line);
        return undefined;
      }
    case "list":
      return readList(node, raw, path, issues);
    case "obj":
      if (raw.kind !== "map") return reportMismatch(issues, path, expectedOf(node), raw);
      return readFields(node.fields, node.finish, raw, path, issues, () => undefined);
    case "map":
      return readMap(node, raw, path, issues);
    case "union":
      return readUnion(node, raw, path, issues);
  }
}

function readAbsent(node: SchemaNode, path: string, issues: Issues): unknown {
  if (node.required) {
    issues.add(path, "required, but not set");
    return undefined;
  }
  const fallback = typeof node.default === "function" ? node.default() : node.default;
  return fallback === undefined ? undefined : readNode(node, fromPlain(fallback), path, issues);
}

function expectedOf(node: SchemaNode): string {
  return node.kind === "scalar" || node.kind === "list" ? node.expected : "a map";
}

function reportMismatch(issues: Issues, path: string, expected: string, raw: Raw): undefined {
  issues.add(path, `expected ${expected}, got ${describe(raw)}`, raw.line);
  return undefined;
}

function readList(node: ListNode, raw: Raw, path: string, issues: Issues): unknown[] | undefined {
  let items: { raw: Raw; path: string }[];
  if (raw.kind === "list") items = raw.items.map((item, i) => ({ raw: item, path: itemPath(path, i) }));
  else if (node.single && raw.kind === "scalar") items = [{ raw, path }];
  else return reportMismatch(issues, path, node.expected, raw);
  if (items.length < node.minItems) {
    issues.add(path, `expected at least ${node.minItems} item${node.minItems === 1 ? "" : "s"}, got ${items.length}`, raw.line);
  }
  const problemsBefore = issues.errors.length;
  // Null items stay in so that "- " with nothing after it is reported, not skipped.
  const values = items.map((item) =>
    isUnset(item.raw) ? reportMismatch(issues, item.path, expectedOf(node.item), item.raw) : readNode(node.item, item.raw, item.path, issues),
  );
  // Duplicate keys are computed from whole items, so only once every item is valid.
  if (node.unique && issues.errors.length === problemsBefore) reportDuplicates(node.unique, values, items, issues);
  return values;
}

function reportDuplicates(
  unique: Unique,
  values: unknown[],
  items: { path: string }[],
  issues: Issues,
): void {
  const firstAt = new Map<string, string>();
  values.forEach((value, i) => {
    if (value === undefined) return;
    const key = unique.key(value as never);
    const first = firstAt.get(key);
    if (first === undefined) firstAt.set(key, items[i]!.path);
    else issues.add(items[i]!.path, `duplicate ${unique.what} ${key} (also at ${first})`);
  });
}

function readMap(node: MapNode, raw: Raw, path: string, issues: Issues): Record<string, unknown> | undefined {
  if (raw.kind !== "map") return reportMismatch(issues, path, expectedOf(node), raw);
  const out: Record<string, unknown> = {};
  for (const entry of raw.entries) {
    const entryPath = childPath(path, entry.key);
    issues.seen(entryPath, entry.keyLine);
    const key = readNode(node.key, { kind: "scalar", value: entry.key, text: entry.key, line: entry.keyLine }, entryPath, issues);
    const value = isUnset(entry.value)
      ? reportMismatch(issues, entryPath, expectedOf(node.value), entry.value)
      : readNode(node.value, entry.value, entryPath, issues);
    if (typeof key === "string" && value !== undefined) out[key] = value;
  }
  return out;
}

function readUnion(node: UnionNode, raw: Raw, path: string, issues: Issues): unknown {
  if (raw.kind !== "map") return reportMismatch(issues, path, expectedOf(node), raw);
  const tagRaw = raw.entries.find((entry) => entry.key === node.on)?.value;
  const tag = readNode(node.tag, tagRaw, childPath(path, node.on), issues);
  const variant = typeof tag === "string" ? node.variants[tag] : undefined;
  // Without a valid tag we cannot know which keys are allowed; the tag error is enough.
  if (!variant) return undefined;
  const fields: Fields = { [node.on]: node.tag, ...node.common, ...variant };
  const hint = (key: string) => {
    const owners = Object.keys(node.variants).filter((name) => Object.hasOwn(node.variants[name]!, key));
    return owners.length ? `it applies to ${node.on} ${owners.join(", ")}, not ${tag}` : undefined;
  };
  return readFields(fields, node.finish, raw, path, issues, hint);
}

function readFields(
  fields: Fields,
  finish: Finish | undefined,
  raw: Extract<Raw, { kind: "map" }>,
  path: string,
  issues: Issues,
  hint: (key: string) => string | undefined,
): unknown {
  const known = Object.keys(fields);
  const given = new Map<string, Raw>();
  for (const entry of raw.entries) {
    const entryPath = childPath(path, entry.key);
    if (Object.hasOwn(fields, entry.key)) {
      issues.seen(entryPath, entry.keyLine);
      given.set(entry.key, entry.value);
    } else issues.add(entryPath, unknownKeyProblem(entry.key, known, hint), entry.keyLine);
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const value = readNode(field, given.get(key), childPath(path, key), issues);
    if (value !== undefined) out[key] = value;
  }
  return finish ? finish(out, (key, problem) => issues.add(childPath(path, key), problem)) : out;
}

function unknownKeyProblem(key: string, known: string[], hint: (key: string) => string | undefined): string {
  const because = hint(key);
  if (because) return `unknown key: ${because}`;
  const guess = closest(key, known);
  return guess ? `unknown key; did you mean "${guess}"?` : `unknown key; known keys here: ${known.join(", ")}`;
}
