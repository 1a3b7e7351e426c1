// The data directory and the database files in it belong to vigil's user alone.
import { accessSync, chmodSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { StartupError, errorMessage } from "../lib/errors.ts";

/**
 * Creates dir (and missing parents) with mode 0700 and checks that vigil can write in it.
 * Walks the parents itself: Node's recursive mkdir spins forever on paths under /proc.
 */
export function ensureDataDir(dir: string): void {
  try {
    for (const missing of missingDirs(resolve(dir))) {
      if (!makeDir(missing)) continue; // another process made it first: it sets its own mode
      chmodSync(missing, 0o700); // the umask may have taken bits away
    }
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StartupError(`data_dir ${dir} is not usable: ${fsReason(err)}`);
  }
}

/** Limits the database file and its WAL companions, where they exist, to the owner. */
export function restrictToOwner(dbFile: string): void {
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** The directories from the topmost missing one down to dir itself. */
function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  return missing;
}

/** True when this call made the directory; false when it appeared meanwhile (another vigil starting). */
function makeDir(path: string): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST" && statSync(path).isDirectory()) return false;
    throw err;
  }
}

/** "ENOTDIR: not a directory, mkdir '/x'" → "ENOTDIR: not a directory"; the path is already in our message. */
function fsReason(err: unknown): string {
  return errorMessage(err).replace(/, \w+ '.*'$/, "");
}
