// docs/config.md, rendered from the schema so the reference cannot fall behind the code.
// scripts/gen-config-doc.ts prints it; a test checks the committed file is current.

import { type DocSection, fieldRows, type KeyRow } from "./doc-rows.ts";
import { configSchema } from "./schema.ts";

/** A small standalone setup; the docs test loads it, so it stays valid. */
export const CONFIG_EXAMPLE = `mode: standalone
identity:
  node_id: dns-1
dns:
  listen_address: ["0.0.0.0:53", "[::]:53"]
  zones: [gslb.example.com]
  nameservers:
    - name: ns1.gslb.example.com
      addresses: [192.0.2.53]
  records: |
    www  300  IN  CNAME  app
services:
  - name: app
    policy: weighted
    when_all_down: fallback
    fallback: [192.0.2.99]
    health_check:
      type: https
      path: /healthz
      interval: 10s
      timeout: 3s
    backends:
      - address: 192.0.2.10
        weight: 200
      - address: 2001:db8::10
        port: 8443
data_dir: \${VIGIL_DATA_DIR:-/var/lib/vigil}
`;

const INTRO = `# Configuration reference

vigil reads one YAML file at start and again on SIGHUP. A new file is used only when all of it is
valid; otherwise the running configuration stays and every problem is reported with its YAML path
and line, for example \`dns.listen_address (line 4): expected host:port, got "53"\`.

- Every key has a default unless it is marked *required*; an empty file is a valid standalone node.
- Unknown keys are errors, with the closest known key suggested, so a typo never goes unnoticed.
- Durations need a unit: \`500ms\`, \`5s\`, \`5m\`, \`1h\`, \`2d\`, or combined as \`1h30m\`.
  TTLs and SOA timers are whole seconds, as in zone files.
- String values may use environment variables: \`\${NAME}\` (an error when NAME is unset) or
  \`\${NAME:-default}\` (the default when NAME is unset or empty). Write \`$\${\` for a literal \`\${\`.
- In key paths below, \`[]\` stands for each item of a list.

This file is generated from \`src/config/schema.ts\` by \`bun scripts/gen-config-doc.ts > docs/config.md\`.
`;

export function renderConfigDoc(): string {
  const sections = new Map<string, DocSection>();
  const rows = fieldRows(configSchema.fields, "", sections);
  const groups = new Map<string, KeyRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[]/)[0]!;
    groups.set(top, [...(groups.get(top) ?? []), row]);
  }
  const parts = [INTRO, "## Example\n", "```yaml\n" + CONFIG_EXAMPLE + "```\n"];
  for (const [top, groupRows] of groups) parts.push(`## ${top}\n`, table(groupRows));
  for (const section of sections.values()) parts.push(`## ${section.title}\n`, table(section.rows));
  return parts.join("\n");
}

function table(rows: KeyRow[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const lines = ["| Key | Type | Default | Meaning |", "| --- | --- | --- | --- |"];
  for (const row of rows) {
    lines.push(`| \`${row.path}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.doc)} |`);
  }
  return lines.join("\n") + "\n";
}
