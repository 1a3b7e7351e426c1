// The store: one open database and a repository per table.
import type { SqlDatabase } from "./driver.ts";
import { createMeta, type Meta } from "./meta.ts";
import { createZoneSerials, type ZoneSerials } from "./zone-serials.ts";
import { createOverrides, type Overrides } from "./overrides.ts";
import { createHealthHistory, type HealthHistory } from "./health-history.ts";
import { createDnssecKeys, type DnssecKeys } from "./dnssec-keys.ts";
import { createAudit, type Audit } from "./audit.ts";
import { createAgents, type Agents } from "./agents.ts";
import { createLbServers, type LbServers } from "./lb-servers.ts";

export interface Store {
  /** Path of the database file. */
  readonly file: string;
  /** For work across repositories in one transaction (db.transaction) and for tests. */
  readonly db: SqlDatabase;
  readonly zoneSerials: ZoneSerials;
  readonly meta: Meta;
  readonly overrides: Overrides;
  readonly history: HealthHistory;
  readonly dnssecKeys: DnssecKeys;
  readonly audit: Audit;
  readonly agents: Agents;
  readonly lbServers: LbServers;
  /** Closes the database; calling it again does nothing. */
  close(): void;
}

/** Builds the repositories over a database that is already migrated. */
export function createStore(db: SqlDatabase, file: string): Store {
  let open = true;
  return {
    file,
    db,
    zoneSerials: createZoneSerials(db),
    meta: createMeta(db),
    overrides: createOverrides(db),
    history: createHealthHistory(db),
    dnssecKeys: createDnssecKeys(db),
    audit: createAudit(db),
    agents: createAgents(db),
    lbServers: createLbServers(db),
    close() {
      if (open) db.close();
      open = false;
    },
  };
}
