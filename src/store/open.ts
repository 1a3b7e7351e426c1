// Opening the store: data_dir, the SQLite file and its settings, migrations, with every failure a
// StartupError the operator can act on.
import { join } from "node:path";
import { StartupError, errorMessage } from "../lib/errors.ts";
import { ensureDataDir, restrictToOwner } from "./data-dir.ts";
import { reportDiskFull } from "./disk-full.ts";
import { openBunDatabase } from "./driver-bun.ts";
import { openNodeDatabase } from "./driver-node.ts";
import { sqliteCode, type OpenDatabase, type SqlDatabase } from "./driver.ts";
import { migrate } from "./migrations.ts";
import { createStore, type Store } from "./store.ts";

export const DB_FILE_NAME = "vigil.db";

export interface StoreOptions {
  /** How long a statement waits for a lock held by another connection. */
  busyTimeoutMs?: number;
}

export function openStore(dataDir: string, opts: StoreOptions = {}): Store {
  ensureDataDir(dataDir);
  const file = join(dataDir, DB_FILE_NAME);
  const db = openFile(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.floor(opts.busyTimeoutMs ?? 5000)}`);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");
    // Migrate before switching to WAL: a file we refuse (not SQLite, newer schema) stays untouched.
    migrate(db, file);
    db.exec("PRAGMA journal_mode = WAL");
    restrictToOwner(file);
  } catch (err) {
    db.close();
    throw asStartupError(err, file);
  }
  return createStore(reportDiskFull(db, file), file);
}

/** bun:sqlite when running under Bun (and in the compiled binary), better-sqlite3 under Node. */
const openDatabase: OpenDatabase = typeof Bun !== "undefined" ? openBunDatabase : openNodeDatabase;

function openFile(file: string): SqlDatabase {
  try {
    return openDatabase(file);
  } catch (err) {
    throw asStartupError(err, file);
  }
}

function asStartupError(err: unknown, file: string): StartupError {
  if (err instanceof StartupError) return err;
  if (sqliteCode(err) === "SQLITE_NOTADB") {
    return new StartupError(`${file} is not a SQLite database: move it aside or point data_dir elsewhere`);
  }
  return new StartupError(`cannot open database ${file}: ${errorMessage(err)}`);
}
