// Balancer servers made through the API, over the running balancer (LbControl) and their table.
// A new server is stored first, then started, and taken out of the store again when it cannot start:
// checking a name or bind and claiming it happen with no await between, so two requests never both
// get one. The config file is the authority: a name or bind it takes from an API-made server wins,
// and that server is deleted (yieldTo), so every name always has exactly one owner.

import { lbServerToPlain, parseLbServer } from "../config/lb-plain.ts";
import { bindsOverlap } from "../config/schema-lb.ts";
import type { LbServerConfig } from "../config/types.ts";
import type { LbServerStats } from "../lb/types.ts";
import { errorMessage } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { Logger } from "../lib/log.ts";
import type { LbServers } from "../store/lb-servers.ts";
import { ApiError, notFound } from "./errors.ts";
import type { LbControl } from "./lb-routes.ts";

export interface LbServerView {
  name: string;
  origin: "config" | "api";
  /** API-made servers: when (ISO 8601). */
  created_at: string | null;
  /** stopped: stored, but not running (see error). */
  state: "running" | "draining" | "starting" | "stopped";
  /** Why a stored server is not running: it could not start, or no longer reads as a server. */
  error?: string;
  /** As the YAML (and POST) writes it. */
  config: unknown;
  stats: LbServerStats | null;
}

export interface LbApiServersDeps {
  control: LbControl;
  stored: LbServers;
  now(): number;
  log: Logger;
}

export class LbApiServers {
  /** Names being started now: taken, but not deletable until the start has settled. */
  private readonly starting = new Map<string, LbServerConfig>();
  private readonly failures = new Map<string, string>();

  constructor(private readonly deps: LbApiServersDeps) {}

  /** Every running server, config ones first, then those only stored (not running), oldest first. */
  list(): LbServerView[] {
    const stats = currentStats(this.deps.control.stats());
    const stored = new Map(this.deps.stored.list().map((row) => [row.name, row]));
    const views = this.deps.control.servers().map(({ config, origin }): LbServerView => ({
      name: config.name,
      origin,
      created_at: iso(stored.get(config.name)?.createdAt),
      state: stats.get(config.name)?.state ?? "stopped",
      config: lbServerToPlain(config),
      stats: stats.get(config.name) ?? null,
    }));
    const listed = new Set(views.map((view) => view.name));
    for (const row of stored.values()) {
      if (listed.has(row.name)) continue;
      const failure = this.failures.get(row.name);
      views.push({
        name: row.name,
        origin: "api",
        created_at: iso(row.createdAt),
        state: this.starting.has(row.name) ? "starting" : "stopped",
        ...(failure !== undefined && { error: failure }),
        config: row.config,
        stats: null,
      });
    }
    return views;
  }

  stats(): LbServerStats[] {
    return [...this.deps.control.stats()];
  }

  /** Stores and starts a server; 409 for a name or bind already taken, 422 when it cannot start. */
  async create(config: LbServerConfig): Promise<LbServerView> {
    const { control, stored, now } = this.deps;
    const taken = [...control.servers(), ...[...this.starting.values()].map((c) => ({ config: c, origin: "api" as const }))];
    const same = taken.find((s) => s.config.name === config.name);
    if (same?.origin === "config") throw conflict(`lb server ${config.name} is in the config file; choose another name`, "name");
    if (same || stored.get(config.name)) throw conflict(`lb server ${config.name} exists; DELETE it first to replace it`, "name");
    const clash = taken.find((s) => bindsOverlap(s.config, config));
    if (clash) {
      throw conflict(`bind ${formatHostPort(config.bind)} (${config.protocol}) overlaps lb server ${clash.config.name} on ${formatHostPort(clash.config.bind)}`, "bind");
    }
    const createdAt = now();
    stored.add({ name: config.name, config: lbServerToPlain(config), createdAt });
    this.starting.set(config.name, config);
    try {
      await control.add(config);
    } catch (err) {
      stored.remove(config.name);
      throw new ApiError(422, `lb server ${config.name} cannot start: ${errorMessage(err)}`);
    } finally {
      this.starting.delete(config.name);
    }
    this.failures.delete(config.name);
    return this.list().find((view) => view.name === config.name)!;
  }

  /** Deletes an API-made server: it stops accepting at once and its connections drain. */
  async remove(name: string): Promise<void> {
    if (this.starting.has(name)) throw conflict(`lb server ${name} is still starting; try again in a moment`);
    if (!this.deps.stored.get(name)) {
      const running = this.deps.control.servers().find((s) => s.config.name === name);
      if (running?.origin === "config") {
        throw conflict(`lb server ${name} comes from the config file: remove it from lb.servers there and reload`);
      }
      throw notFound(`no lb server ${name}`);
    }
    this.deps.stored.remove(name);
    this.failures.delete(name);
    await this.deps.control.remove(name);
  }

  /**
   * Gives the config's servers the names and binds they take from API-made ones: those API-made
   * servers are stopped and deleted, with a warning. Call with the new config before applying it.
   */
  async yieldTo(configServers: readonly LbServerConfig[]): Promise<string[]> {
    const yielded: string[] = [];
    for (const row of this.deps.stored.list()) {
      const config = readStored(row.config);
      const rival = configServers.find((c) => c.name === row.name || (config !== undefined && bindsOverlap(c, config)));
      if (!rival) continue;
      this.deps.stored.remove(row.name);
      this.failures.delete(row.name);
      await this.deps.control.remove(row.name);
      yielded.push(row.name);
      this.deps.log.warn("lb server made through the API deleted: the config file now has its name or bind", {
        lb_server: row.name,
        config_server: rival.name,
      });
    }
    return yielded;
  }

  /**
   * At start, once the config's servers run: yields to them, then starts every stored server not
   * running yet. One that cannot start is logged and shown as stopped with its error; the rest start.
   */
  async restore(configServers: readonly LbServerConfig[]): Promise<void> {
    await this.yieldTo(configServers);
    const running = new Set(this.deps.control.servers().map((s) => s.config.name));
    for (const row of this.deps.stored.list()) {
      if (running.has(row.name)) continue;
      try {
        await this.deps.control.add(parseLbServer(row.config));
        this.failures.delete(row.name);
      } catch (err) {
        this.failures.set(row.name, errorMessage(err));
        this.deps.log.error("lb server made through the API cannot start", { lb_server: row.name, error: errorMessage(err) });
      }
    }
  }
}

/** A stored server's config; undefined when it no longer reads as one (restore reports that). */
function readStored(plain: unknown): LbServerConfig | undefined {
  try {
    return parseLbServer(plain);
  } catch {
    return undefined;
  }
}

/** Stats by server name; a running server's over a draining one of the same name. */
function currentStats(all: readonly LbServerStats[]): Map<string, LbServerStats> {
  const byName = new Map<string, LbServerStats>();
  for (const stats of all) {
    if (byName.get(stats.name)?.state !== "running") byName.set(stats.name, stats);
  }
  return byName;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

const conflict = (message: string, field?: string) => new ApiError(409, message, field);
