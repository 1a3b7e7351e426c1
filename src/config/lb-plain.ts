// A balancer server as plain JSON with the YAML's keys and spellings ("5s", "10.0.0.5:80 weight=3"):
// how the API takes one, shows one and stores one. Reading goes through the same schema node as the
// YAML item, so a server made through the API is held to the same rules as one in the file.

import { ConfigErrors } from "../lib/errors.ts";
import { formatDuration } from "../lib/duration.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { Issues } from "./issues.ts";
import { fromPlain } from "./raw.ts";
import { lbServer } from "./schema-lb.ts";
import type { LbBackendSource, LbServerConfig } from "./types.ts";
import { readNode } from "./walk.ts";

/** Validates a plain value (parsed JSON) as one lb server; throws ConfigErrors whose paths are relative ("bind", "static[1]"). */
export function parseLbServer(value: unknown): LbServerConfig {
  const issues = new Issues();
  const server = readNode(lbServer, fromPlain(value), "", issues);
  if (issues.errors.length > 0) throw new ConfigErrors(issues.sorted());
  return server as LbServerConfig;
}

/** The inverse of parseLbServer: every key written out, so parseLbServer(lbServerToPlain(c)) equals c. */
export function lbServerToPlain(server: LbServerConfig): Record<string, unknown> {
  const { name, bind, backends, sni, healthcheck, udp, access, ...rest } = server;
  return {
    name,
    bind: formatHostPort(bind),
    ...rest,
    client_idle_timeout: formatDuration(server.client_idle_timeout),
    backend_idle_timeout: formatDuration(server.backend_idle_timeout),
    backend_connection_timeout: formatDuration(server.backend_connection_timeout),
    ...(sni && {
      sni: {
        routes: sni.routes.map((route) => ({ server_names: route.server_names, ...sourceToPlain(route.backends) })),
        unexpected_hostname: sni.unexpected_hostname,
        read_timeout: formatDuration(sni.read_timeout),
      },
    }),
    access: { default: access.default, rules: access.rules.map((rule) => `${rule.action} ${rule.network}`) },
    // Filled in for every protocol, but a key only udp may carry.
    ...(server.protocol === "udp" && { udp: { ...udp, session_timeout: formatDuration(udp.session_timeout) } }),
    ...sourceToPlain(backends),
    ...(healthcheck && {
      healthcheck: { ...healthcheck, interval: formatDuration(healthcheck.interval), timeout: formatDuration(healthcheck.timeout) },
    }),
  };
}

function sourceToPlain(source: LbBackendSource): Record<string, unknown> {
  switch (source.kind) {
    case "service":
      return { service: source.service };
    case "static":
      return { static: source.backends.map((b) => `${formatHostPort({ host: b.address, port: b.port })} weight=${b.weight}`) };
    case "srv": {
      const { kind: _, lookup_server, interval, timeout, ...srv } = source;
      return {
        srv: { ...srv, lookup_server: formatHostPort(lookup_server), interval: formatDuration(interval), timeout: formatDuration(timeout) },
      };
    }
  }
}
