import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_EXAMPLE, renderConfigDoc } from "../../src/config/docs.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Fields, SchemaNode } from "../../src/config/nodes.ts";
import { configSchema } from "../../src/config/schema.ts";

const committed = readFileSync(join(import.meta.dir, "..", "..", "docs", "config.md"), "utf8");

/** Every key the schema knows, as [key name, node], found by walking the schema itself. */
function schemaKeys(fields: Fields): [string, SchemaNode][] {
  return Object.entries(fields).flatMap(([key, node]): [string, SchemaNode][] => [[key, node], ...childKeys(node)]);
}

function childKeys(node: SchemaNode): [string, SchemaNode][] {
  if (node.kind === "obj") return schemaKeys(node.fields);
  if (node.kind === "list") return childKeys(node.item);
  if (node.kind === "union") {
    return [[node.on, node.tag], ...schemaKeys(node.common), ...Object.values(node.variants).flatMap(schemaKeys)];
  }
  return [];
}

describe("docs/config.md", () => {
  test("is what scripts/gen-config-doc.ts prints (regenerate it after changing the schema)", () => {
    expect(committed).toBe(renderConfigDoc());
  });

  test("documents every key of the schema, each with a meaning", () => {
    for (const [key, node] of schemaKeys(configSchema.fields)) {
      expect(committed).toMatch(new RegExp(`\\| \`([a-z_.\\[\\]]*[.\\]])?${key}\` \\|`));
      expect(node.doc ?? "").not.toBe("");
    }
  });

  test("its example is a valid configuration", () => {
    expect(committed).toContain(CONFIG_EXAMPLE);
    const config = parseConfig(CONFIG_EXAMPLE, { env: {} });
    expect(config.services[0]!.fqdn).toBe("app.gslb.example.com");
    expect(config.data_dir).toBe("/var/lib/vigil");
  });
});
