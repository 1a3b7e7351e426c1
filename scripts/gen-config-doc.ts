// Prints docs/config.md from the config schema: bun scripts/gen-config-doc.ts > docs/config.md

import { renderConfigDoc } from "../src/config/docs.ts";

process.stdout.write(renderConfigDoc());
