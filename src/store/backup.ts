// An online backup of the store: a consistent snapshot of vigil.db taken through SQLite itself
// (VACUUM INTO reads inside one transaction, so a node writing meanwhile in WAL mode neither waits
// nor tears the copy), written to a new file that only its owner can read: it holds the DNSSEC
// private keys. The copy is one self-contained file (rollback-journal mode, no -wal beside it).
import { closeSync, existsSync, fsyncSync, openSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { errorMessage } from "../lib/errors.ts";
import { sqliteCode, type OpenDatabase, type SqlDatabase } from "./driver.ts";
import { schemaVersion } from "./migrations.ts";
import { DB_FILE_NAME } from "./open.ts";

/** A backup that was not made; the message says why and what to do. No partial file is left. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

export interface BackupResult {
  /** The live database that was copied. */
  source: string;
  target: string;
  bytes: number;
  /** The copy's schema version (PRAGMA user_version): the vigil release that can open it, or later. */
  schemaVersion: number;
}

/** Copies dataDir's database to target, which must not exist yet; the copy passes integrity_check. */
export function backupDataDir(dataDir: string, target: string, open: OpenDatabase): BackupResult {
  const source = join(dataDir, DB_FILE_NAME);
  if (!existsSync(dataDir)) throw new BackupError(`data_dir ${dataDir} does not exist: is it the node's data_dir?`);
  if (!existsSync(source)) throw new BackupError(`${source} does not exist: a node creates it when it first starts`);
  createEmptyTarget(target);
  try {
    withDatabase(open, source, (db) => {
      // In WAL mode a reader waits only while another connection recovers the log; give that time.
      db.exec("PRAGMA busy_timeout = 5000");
      db.prepare("VACUUM INTO ?").run(target);
    });
    // SQLite does not fsync what VACUUM INTO wrote; a backup that a power cut can undo is no backup.
    syncFile(target);
    syncFile(dirname(target));
    const version = withDatabase(open, target, verifyCopy);
    return { source, target, bytes: statSync(target).size, schemaVersion: version };
  } catch (err) {
    rmSync(target, { force: true }); // created by us above, so it is never someone else's file
    throw asBackupError(err, source, target);
  }
}

/**
 * Creates target empty with mode 0600 (VACUUM INTO accepts an empty file), failing if it exists:
 * the exclusive create is what guarantees a backup never overwrites anything.
 */
function createEmptyTarget(target: string): void {
  try {
    closeSync(openSync(target, "wx", 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const dir = dirname(target);
    const why: Record<string, string> = {
      EEXIST: `${target} already exists: a backup never overwrites a file; choose a new name`,
      ENOENT: `cannot create ${target}: directory ${dir} does not exist`,
      ENOTDIR: `cannot create ${target}: ${dir} is not a directory`,
      EISDIR: `cannot create ${target}: it is a directory; name the backup file`,
      EACCES: `cannot create ${target}: permission denied (can this user write in ${dir}?)`,
      EROFS: `cannot create ${target}: ${dir} is on a read-only file system`,
      ENOSPC: diskFullMessage(target),
    };
    throw new BackupError(why[code ?? ""] ?? `cannot create ${target}: ${errorMessage(err)}`);
  }
}

function verifyCopy(db: SqlDatabase): number {
  const problems = db.prepare<{ integrity_check: string }>("PRAGMA integrity_check").all().map((r) => r.integrity_check);
  if (problems.join() !== "ok") throw new BackupError(`the copy failed PRAGMA integrity_check: ${problems.slice(0, 5).join("; ")}`);
  return schemaVersion(db);
}

function withDatabase<T>(open: OpenDatabase, file: string, use: (db: SqlDatabase) => T): T {
  const db = open(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function diskFullMessage(target: string): string {
  return `disk full writing ${target}: no backup was made; free space on its file system or back up elsewhere`;
}

function asBackupError(err: unknown, source: string, target: string): BackupError {
  if (err instanceof BackupError) return err;
  const code = sqliteCode(err) ?? (err as NodeJS.ErrnoException).code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") return new BackupError(diskFullMessage(target));
  if (code === "SQLITE_NOTADB") return new BackupError(`${source} is not a SQLite database`);
  return new BackupError(`backing up ${source} to ${target} failed: ${errorMessage(err)}`);
}
