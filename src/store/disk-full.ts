// A full disk is an operational problem, not a bug: every write through the store reports it in
// words an operator acts on. SQLite rolls the failing statement (and our transaction) back, so what
// was stored before stays intact.
import { sqliteCode, type SqlDatabase } from "./driver.ts";

export class DiskFullError extends Error {
  constructor(readonly file: string) {
    super(`disk full writing ${file}: the change was not saved (data stored earlier is intact); free space on its filesystem`);
    this.name = "DiskFullError";
  }
}

/** Wraps db so that SQLITE_FULL from any statement or transaction becomes a DiskFullError naming file. */
export function reportDiskFull(db: SqlDatabase, file: string): SqlDatabase {
  const guard = <T>(write: () => T): T => {
    try {
      return write();
    } catch (err) {
      throw sqliteCode(err) === "SQLITE_FULL" ? new DiskFullError(file) : err;
    }
  };
  return {
    exec: (sql) => guard(() => db.exec(sql)),
    prepare<Row>(sql: string) {
      const stmt = db.prepare<Row>(sql);
      return {
        run: (...params) => guard(() => stmt.run(...params)),
        get: (...params) => guard(() => stmt.get(...params)),
        all: (...params) => guard(() => stmt.all(...params)),
      };
    },
    transaction: (fn) => guard(() => db.transaction(fn)),
    close: () => db.close(),
  };
}
