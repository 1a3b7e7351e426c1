// npm run build: one self-contained executable, dist/vigil, with the default config and assets
// embedded (text imports) and the git commit baked in for `vigil version`.

import { $ } from "bun";

const out = process.argv[2] ?? "dist/vigil";
const commit = (await $`git rev-parse --short=12 HEAD`.nothrow().quiet().text()).trim() || "unknown";
const dirty = (await $`git status --porcelain --untracked-files=no`.nothrow().quiet().text()).trim() ? "-dirty" : "";

// better-sqlite3 is the store's Node driver; the binary always runs on bun:sqlite.
await $`bun build src/main.ts --compile --minify-syntax --minify-whitespace --sourcemap=none --outfile ${out} --external better-sqlite3 --define VIGIL_COMMIT=${JSON.stringify(commit + dirty)}`;
console.log(`built ${out} (commit ${commit}${dirty})`);
