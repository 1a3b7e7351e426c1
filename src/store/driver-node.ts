// better-sqlite3 behind the seam. Required lazily so the compiled Bun binary never needs the native addon.
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import type { SqlDatabase } from "./driver.ts";

export function openNodeDatabase(path: string): SqlDatabase {
  const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(path);
  return {
    exec: (sql) => void db.exec(sql),
    prepare<Row>(sql: string) {
      const stmt = db.prepare<unknown[], Row>(sql);
      return {
        run: (...params) => ({ changes: stmt.run(...params).changes }),
        get: (...params) => stmt.get(...params),
        all: (...params) => stmt.all(...params),
      };
    },
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
