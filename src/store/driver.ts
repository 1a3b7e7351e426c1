// The seam between the store and a SQLite binding: bun:sqlite in Bun, better-sqlite3 in Node.
// Only positional parameters, so both bindings behave the same.

export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlStatement<Row> {
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare<Row = unknown>(sql: string): SqlStatement<Row>;
  /** Runs fn in a transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Opens (creating if missing) the database file at path. */
export type OpenDatabase = (path: string) => SqlDatabase;

/** The SQLite result code name ("SQLITE_FULL") both bindings put on their errors, if any. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}
