// bun:sqlite behind the seam. Loaded through require so a Node bundle never imports "bun:sqlite".
import { createRequire } from "node:module";
import type { Database } from "bun:sqlite";
import type { SqlDatabase, SqlValue } from "./driver.ts";

export function openBunDatabase(path: string): SqlDatabase {
  const { Database: BunDatabase } = createRequire(import.meta.url)("bun:sqlite") as typeof import("bun:sqlite");
  const db: Database = new BunDatabase(path, { create: true, readwrite: true });
  return {
    exec: (sql) => void db.exec(sql),
    prepare<Row>(sql: string) {
      const stmt = db.prepare<Row, SqlValue[]>(sql);
      return {
        run: (...params) => ({ changes: stmt.run(...params).changes }),
        // bun:sqlite says "no row" with null; the seam says undefined.
        get: (...params) => stmt.get(...params) ?? undefined,
        all: (...params) => stmt.all(...params),
      };
    },
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
