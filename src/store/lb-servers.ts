// Balancer servers made through the API (the YAML's own live in the config file): each one's config
// as the plain JSON the API shows (config/lb-plain.ts), so a restart starts them again as they were.
import type { SqlDatabase } from "./driver.ts";

export interface StoredLbServer {
  name: string;
  /** The server as plain JSON with the YAML's keys; read back with parseLbServer. */
  config: unknown;
  /** ms since epoch. */
  createdAt: number;
}

export interface LbServers {
  /** Stores a new server; false, and nothing written, when the name is already stored. */
  add(server: StoredLbServer): boolean;
  get(name: string): StoredLbServer | undefined;
  /** Every stored server, oldest first. */
  list(): StoredLbServer[];
  /** False when there was none by that name. */
  remove(name: string): boolean;
}

interface Row {
  name: string;
  config: string;
  created_at: number;
}

const fromRow = (row: Row): StoredLbServer => ({ name: row.name, config: JSON.parse(row.config), createdAt: row.created_at });

export function createLbServers(db: SqlDatabase): LbServers {
  const insert = db.prepare("INSERT INTO lb_servers (name, config, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING");
  const select = db.prepare<Row>("SELECT * FROM lb_servers WHERE name = ?");
  const selectAll = db.prepare<Row>("SELECT * FROM lb_servers ORDER BY created_at, name");
  const remove = db.prepare("DELETE FROM lb_servers WHERE name = ?");
  return {
    add(server) {
      return insert.run(server.name, JSON.stringify(server.config), server.createdAt).changes > 0;
    },
    get(name) {
      const row = select.get(name);
      return row && fromRow(row);
    },
    list() {
      return selectAll.all().map(fromRow);
    },
    remove(name) {
      return remove.run(name).changes > 0;
    },
  };
}
