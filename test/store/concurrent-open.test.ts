// Several processes opening one new data_dir at once (a node starting while `vigil keys` runs beside
// it): exactly one migrates, the others wait for its write lock and find the schema done.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openStore } from "../../src/store/open.ts";
import { MIGRATIONS, schemaVersion } from "../../src/store/migrations.ts";

const OPEN = resolve(import.meta.dir, "../../src/store/open.ts");

test("four processes open one new data_dir at once: every one succeeds, the schema is migrated once", async () => {
  for (let round = 0; round < 5; round++) {
    const dir = mkdtempSync(join(tmpdir(), "vigil-race-"));
    try {
      // Every process is loaded first and then waits for one instant, so the opens really overlap.
      const startAt = Date.now() + 700;
      const script = `const { openStore } = await import(${JSON.stringify(OPEN)}); while (Date.now() < ${startAt}); openStore(${JSON.stringify(join(dir, "data"))}).close();`;
      const runs = Array.from({ length: 4 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" }));
      const results = await Promise.all(runs.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text() })));
      for (const r of results) expect(r).toEqual({ code: 0, stderr: "" });
      const store = openStore(join(dir, "data"));
      expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}, 30_000);
