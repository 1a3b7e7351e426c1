// The schema, as an ordered list of steps. The database's PRAGMA user_version counts the steps
// applied; to change the schema, append a step (never edit or reorder one that has shipped).
import { StartupError } from "../lib/errors.ts";
import type { SqlDatabase } from "./driver.ts";

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: "zone serials and node facts",
    sql: `
      CREATE TABLE zone_serials (
        zone         TEXT PRIMARY KEY,
        serial       INTEGER NOT NULL CHECK (serial >= 0),
        content_hash TEXT NOT NULL
      ) STRICT;
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;`,
  },
  {
    name: "health: overrides, state-change events, last known backend states",
    sql: `
      CREATE TABLE overrides (
        service    TEXT NOT NULL,
        address    TEXT NOT NULL,
        healthy    INTEGER NOT NULL CHECK (healthy IN (0, 1)),
        reason     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (service, address)
      ) STRICT;
      CREATE TABLE health_events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        service   TEXT NOT NULL,
        address   TEXT NOT NULL,
        port      INTEGER NOT NULL,
        old_state TEXT NOT NULL,
        new_state TEXT NOT NULL,
        reason    TEXT NOT NULL,
        detail    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX health_events_by_service ON health_events (service, id);
      CREATE TABLE backend_states (
        service TEXT NOT NULL,
        address TEXT NOT NULL,
        port    INTEGER NOT NULL,
        state   TEXT NOT NULL,
        reason  TEXT NOT NULL,
        since   INTEGER NOT NULL,
        PRIMARY KEY (service, address, port)
      ) STRICT;`,
  },
  {
    name: "dnssec: key sets per zone (revision) and their keys",
    sql: `
      CREATE TABLE dnssec_key_sets (
        zone     TEXT PRIMARY KEY,
        revision INTEGER NOT NULL CHECK (revision >= 0)
      ) STRICT;
      CREATE TABLE dnssec_keys (
        zone               TEXT NOT NULL REFERENCES dnssec_key_sets (zone) ON DELETE CASCADE,
        tag                INTEGER NOT NULL CHECK (tag BETWEEN 0 AND 65535),
        role               TEXT NOT NULL CHECK (role IN ('csk', 'ksk', 'zsk')),
        algorithm          INTEGER NOT NULL,
        public_key         BLOB NOT NULL,
        private_key        BLOB NOT NULL,
        state              TEXT NOT NULL CHECK (state IN ('published', 'active', 'retired', 'removed')),
        created_at         INTEGER NOT NULL,
        state_since        INTEGER NOT NULL,
        next_transition_at INTEGER,
        PRIMARY KEY (zone, tag)
      ) STRICT;`,
  },
  {
    name: "api: audit trail of writes",
    sql: `
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        client  TEXT NOT NULL,
        method  TEXT NOT NULL,
        route   TEXT NOT NULL,
        status  INTEGER NOT NULL,
        summary TEXT NOT NULL
      ) STRICT;`,
  },
  {
    name: "agents: public keys pinned on first use",
    sql: `
      CREATE TABLE agents (
        agent_id            TEXT PRIMARY KEY,
        service             TEXT NOT NULL,
        public_key          BLOB NOT NULL,
        first_seen          INTEGER NOT NULL,
        last_seen           INTEGER NOT NULL,
        rekey_allowed_until INTEGER
      ) STRICT;`,
  },
  {
    name: "lb: balancer servers made through the API",
    sql: `
      CREATE TABLE lb_servers (
        name       TEXT PRIMARY KEY,
        config     TEXT NOT NULL CHECK (json_valid(config)),
        created_at INTEGER NOT NULL
      ) STRICT;`,
  },
];

export function schemaVersion(db: SqlDatabase): number {
  return db.prepare<{ user_version: number }>("PRAGMA user_version").get()?.user_version ?? 0;
}

/**
 * Applies the migrations this database has not had yet, all in one transaction, and returns how
 * many ran. A database from a newer vigil is refused before anything is written to it.
 */
export function migrate(db: SqlDatabase, file: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StartupError(
      `database ${file} has schema version ${current}, newer than this vigil supports (${migrations.length}): ` +
        "upgrade vigil or restore a backup",
    );
  }
  if (current === migrations.length) return 0;
  // Two processes may open a new data_dir at once (a node starting, `vigil keys` beside it): the
  // write lock is taken first and the version read again under it, so only one of them migrates.
  db.exec("BEGIN IMMEDIATE");
  try {
    const pending = migrations.slice(schemaVersion(db));
    for (const migration of pending) db.exec(migration.sql);
    db.exec(`PRAGMA user_version = ${migrations.length}`);
    db.exec("COMMIT");
    return pending.length;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
