// The schema vocabulary: a config key is a node that knows its type, default and documentation.
// One walker (walk.ts) validates with these nodes and one renderer (docs.ts) documents them, so the
// two cannot drift apart. Scalar node builders live in scalars.ts.

import type { RawScalar } from "./raw.ts";

export interface Meta {
  /** What the key means, for docs/config.md. */
  doc?: string;
  /**
   * Used when the key is absent, written as it would be in YAML ("5s", ["0.0.0.0:53"]) and read like
   * the operator's own value; a function for values known only at load time.
   */
  default?: unknown;
  /** How docs show a default that is computed, or filled in by a cross-field rule. */
  defaultDoc?: string;
  required?: boolean;
}

export interface ScalarNode extends Meta {
  kind: "scalar";
  /** Short type name for the docs: "duration", "host:port". */
  type: string;
  /** The phrase after "expected" in an error: "a duration", "an integer from 1 to 65535". */
  expected: string;
  /** Returns the normalized value or throws an Error whose message is the whole problem. */
  parse(raw: RawScalar): unknown;
}

export interface ListNode extends Meta {
  kind: "list";
  item: SchemaNode;
  expected: string;
  /** Accept one item written without the list around it. */
  single: boolean;
  minItems: number;
  unique?: Unique;
}

export interface Unique {
  /** What a duplicate is called in the error: "zone", "backend". */
  what: string;
  key: (value: never) => string;
}

export type Fields = Record<string, SchemaNode>;

/** Last step for an object: checks keys against each other and may reshape the value. */
export type Finish = (value: Record<string, unknown>, report: (key: string, problem: string) => void) => unknown;

export interface ObjNode extends Meta {
  kind: "obj";
  fields: Fields;
  finish?: Finish;
}

export interface MapNode extends Meta {
  kind: "map";
  /** What the keys are, for the docs: agent_tokens.<service>. */
  keyName: string;
  key: ScalarNode;
  value: SchemaNode;
}

/** An object whose allowed keys depend on one tag key, e.g. a health check's `type`. */
export interface UnionNode extends Meta {
  kind: "union";
  on: string;
  tag: ScalarNode;
  common: Fields;
  variants: Record<string, Fields>;
  finish?: Finish;
  /** Documented once under its own heading, and referred to wherever it is used. */
  section?: { name: string; title: string };
}

export type SchemaNode = ScalarNode | ListNode | ObjNode | MapNode | UnionNode;

/** A map of known keys. Absent, it reads as {} so the keys' defaults apply, unless optional. */
export function obj(options: Meta & { fields: Fields; finish?: Finish; optional?: boolean }): ObjNode {
  const { optional, ...rest } = options;
  const absentAsEmpty = !optional && !rest.required && rest.default === undefined;
  return { kind: "obj", ...rest, ...(absentAsEmpty ? { default: {} } : {}) };
}

export function list(
  options: Meta & { item: SchemaNode; single?: boolean; minItems?: number; unique?: Unique; expected?: string },
): ListNode {
  const { single = false, minItems = 0, expected, ...rest } = options;
  const phrase = expected ?? (single ? `${options.item.kind === "scalar" ? options.item.expected : "a value"} or a list of them` : "a list");
  return { kind: "list", single, minItems, expected: phrase, ...rest };
}

export function map(options: Meta & { keyName: string; key: ScalarNode; value: SchemaNode }): MapNode {
  return { kind: "map", ...options };
}

export function union(options: Omit<UnionNode, "kind">): UnionNode {
  return { kind: "union", ...options };
}
