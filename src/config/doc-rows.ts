// Flattens the schema into one row per key (dotted path, type, default, meaning) for docs/config.md.

import type { Fields, ListNode, SchemaNode, UnionNode } from "./nodes.ts";

export interface KeyRow {
  /** Dotted path; "[]" marks list items: services[].backends[].address. */
  path: string;
  type: string;
  default: string;
  doc: string;
}

export interface DocSection {
  name: string;
  title: string;
  rows: KeyRow[];
}

/** Rows for each field of an object; union nodes with a section are collected into sections once. */
export function fieldRows(fields: Fields, base: string, sections: Map<string, DocSection>): KeyRow[] {
  return Object.entries(fields).flatMap(([key, node]) => nodeRows(node, base ? `${base}.${key}` : key, sections));
}

function nodeRows(node: SchemaNode, path: string, sections: Map<string, DocSection>): KeyRow[] {
  const row: KeyRow = { path, type: typeOf(node), default: defaultOf(node), doc: node.doc ?? "" };
  switch (node.kind) {
    case "scalar":
    case "map":
      return [row];
    case "obj":
      return [row, ...fieldRows(node.fields, path, sections)];
    case "list":
      return [row, ...itemRows(node, `${path}[]`, sections)];
    case "union":
      if (!node.section) return [row, ...unionRows(node, path, sections)];
      if (!sections.has(node.section.name)) {
        const section: DocSection = { ...node.section, rows: [] };
        sections.set(node.section.name, section);
        section.rows = unionRows(node, node.section.name, sections);
      }
      return [row];
  }
}

function itemRows(node: ListNode, path: string, sections: Map<string, DocSection>): KeyRow[] {
  return node.item.kind === "obj" ? fieldRows(node.item.fields, path, sections) : [];
}

/** The tag, the common keys, then each variant's keys once, marked with the tags they apply to. */
function unionRows(node: UnionNode, base: string, sections: Map<string, DocSection>): KeyRow[] {
  const rows = [...nodeRows(node.tag, `${base}.${node.on}`, sections), ...fieldRows(node.common, base, sections)];
  const tagsOf = new Map<SchemaNode, string[]>();
  const keyOf = new Map<SchemaNode, string>();
  for (const [tag, fields] of Object.entries(node.variants)) {
    for (const [key, field] of Object.entries(fields)) {
      tagsOf.set(field, [...(tagsOf.get(field) ?? []), tag]);
      keyOf.set(field, key);
    }
  }
  for (const [field, tags] of tagsOf) {
    for (const row of nodeRows(field, `${base}.${keyOf.get(field)}`, sections)) {
      rows.push({ ...row, doc: `Only with ${node.on} ${tags.join(", ")}. ${row.doc}` });
    }
  }
  return rows;
}

function typeOf(node: SchemaNode): string {
  switch (node.kind) {
    case "scalar":
      return node.type;
    case "obj":
      return "map";
    case "map":
      return `map of ${node.keyName} to ${typeOf(node.value)}`;
    case "union":
      return node.section ? `see [${node.section.title}](#${anchorOf(node.section.title)})` : "map";
    case "list": {
      const item = node.item.kind === "scalar" ? node.item.type : "maps";
      return node.single ? `${item} or list of ${item}` : `list of ${item}`;
    }
  }
}

function defaultOf(node: SchemaNode): string {
  if (node.defaultDoc) return node.defaultDoc;
  if (node.required) return "required";
  if (node.kind === "obj" || node.default === undefined) return "";
  return `\`${plainYaml(node.default)}\``;
}

/** A default as it would be written in YAML flow style. */
function plainYaml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(plainYaml).join(", ")}]`;
  if (value !== null && typeof value === "object") return Object.keys(value).length === 0 ? "{}" : JSON.stringify(value);
  return value === "" ? '""' : String(value);
}

/** The anchor GitHub gives a markdown heading. */
function anchorOf(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-");
}
