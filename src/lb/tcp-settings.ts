// What one TCP/TLS balancer server needs to handle a new connection, compiled once from its config
// (at start and at each reload). A connection keeps the settings it was accepted with, so a reload
// changes only connections that arrive after it.

import { readFileSync } from "node:fs";
import type { TLSOptions } from "bun";
import type { LbServerConfig } from "../config/types.ts";
import { errorMessage } from "../lib/errors.ts";
import { AccessRules } from "./access.ts";
import type { Pool } from "./pool.ts";
import { SniRouter, type SniRoute } from "./sni-router.ts";

/** The pools a server sends to: its own, and one per SNI route. */
export interface TcpPools {
  main: Pool;
  sni: SniRoute[];
}

export interface TcpSettings {
  readonly config: LbServerConfig;
  readonly pools: TcpPools;
  readonly access: AccessRules;
  /** Set when connections are routed by TLS server name. */
  readonly sni: { router: SniRouter; readTimeoutMs: number } | undefined;
  /** Set when backends are reached over TLS. */
  readonly backendTls: BackendTls | undefined;
}

/** Throws an Error naming the config key when something cannot be used (a bad CIDR, an unreadable CA file). */
export function compileSettings(config: LbServerConfig, pools: TcpPools): TcpSettings {
  return {
    config,
    pools,
    access: new AccessRules(config.access),
    sni: config.sni && {
      router: new SniRouter(pools.sni, config.sni.unexpected_hostname === "default" ? pools.main : undefined),
      readTimeoutMs: config.sni.read_timeout,
    },
    backendTls: config.backends_tls && new BackendTls(config.backends_tls),
  };
}

export class BackendTls {
  private readonly fixed: TLSOptions | undefined;
  private readonly base: TLSOptions;

  constructor(config: NonNullable<LbServerConfig["backends_tls"]>) {
    this.base = { rejectUnauthorized: config.verify };
    if (config.ca_path !== undefined) this.base.ca = readCa(config.ca_path);
    if (config.server_name !== undefined) this.fixed = { ...this.base, serverName: config.server_name };
  }

  /**
   * TLS options for one backend connection. The name sent and verified is `server_name` when set,
   * else the name the client asked us for (so a backend serving several names sees the right one),
   * else the backend's address.
   */
  options(clientServerName: string | undefined): TLSOptions {
    if (this.fixed) return this.fixed;
    return clientServerName === undefined ? this.base : { ...this.base, serverName: clientServerName };
  }
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`backends_tls.ca_path: cannot read ${JSON.stringify(path)}: ${errorMessage(err)}`);
  }
}
