// The built-in L4 balancer's part of the schema: lb.servers. Each server's `service`, `static` or `srv`
// key (and each SNI route's) folds into one `backends` source. The server item is also what the API
// validates a new server with (lb-plain.ts), so a server made either way reads the same.

import { formatCidr, formatIp, parseCidr, parseIp } from "../lib/cidr.ts";
import { formatHostPort, parseHostPort } from "../lib/hostport.ts";
import { Issues } from "./issues.ts";
import { type Fields, type Finish, list, obj } from "./nodes.ts";
import { bool, domainName, duration, enumOf, hostPort, int, mismatch, scalar, serverName, str } from "./scalars.ts";
import { timeoutBelowInterval } from "./schema-health-check.ts";
import type { HostPort, LbServerConfig, LbStaticBackend } from "./types.ts";
import { readNode } from "./walk.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const NAME_EXPECTED = 'a name of up to 63 letters, digits, "-", "_" and "." (starting with a letter or digit)';

// It names the server in API paths and metric labels, so it keeps to characters safe in both.
const lbServerName = scalar("name", NAME_EXPECTED, (raw) => {
  if (!NAME.test(raw.text)) throw mismatch(NAME_EXPECTED, raw);
  return raw.text;
}, { required: true, doc: "Names the server in the API, metrics and logs; unique." });

const MAX_WEIGHT = 1_000_000;
const STATIC_EXPECTED = 'an IP address and port with an optional weight, such as "10.0.0.5:80 weight=3" ("[::1]:80" for IPv6)';

/** "10.0.0.5:80 weight=3" → {address, port, weight}; the weight is 1 when not written. */
const staticBackend = scalar("host:port [weight=N]", STATIC_EXPECTED, (raw) => {
  const [target = "", ...options] = raw.text.trim().split(/\s+/);
  const { host, port } = parseHostPort(target);
  if (!parseIp(host)) throw new Error(`expected an IP address, got "${host}": use srv discovery for backends known by name`);
  if (port === 0) throw new Error(`expected a port from 1 to 65535, got 0 in ${JSON.stringify(raw.text)}`);
  const weight = /^weight=(\d{1,7})$/.exec(options[0] ?? "weight=1");
  if (options.length > 1 || !weight || Number(weight[1]) > MAX_WEIGHT) {
    throw new Error(`${mismatch(STATIC_EXPECTED, raw).message}: the only option is weight=N, N from 0 to ${MAX_WEIGHT}`);
  }
  return { address: host, port, weight: Number(weight[1]) } satisfies LbStaticBackend;
}, {});

const ACCESS_EXPECTED = '"allow CIDR" or "deny CIDR", such as "deny 10.0.0.0/8"';

/** "deny 10.0.0.0/8" → {action, network}; a bare address is the network of that one address. */
const accessRule = scalar("allow|deny CIDR", ACCESS_EXPECTED, (raw) => {
  const match = /^(allow|deny)\s+(\S+)$/.exec(raw.text.trim());
  if (!match) throw mismatch(ACCESS_EXPECTED, raw);
  const address = parseIp(match[2]!);
  const network = address ? `${formatIp(address)}/${address.length * 8}` : formatCidr(parseCidr(match[2]!));
  return { action: match[1] as "allow" | "deny", network };
}, {});

/** A host:port something is sent to, so port 0 (any free port, for listeners) makes no sense. */
const targetHostPort = scalar("host:port", "host:port", (raw) => {
  const target = parseHostPort(raw.text);
  if (target.port === 0) throw new Error(`expected a port from 1 to 65535, got 0 in ${JSON.stringify(raw.text)}`);
  return target;
}, { required: true, doc: "DNS server asked for the SRV records." });

const serverNames = (doc: string, required = false) =>
  list({
    item: serverName({}),
    unique: { what: "server name", key: (name: string) => name },
    ...(required ? { required, minItems: 1 } : { default: [] }),
    doc,
  });

const SOURCE_KEYS = ["service", "static", "srv"] as const;

/** Where backends come from: exactly one of these keys, folded into `backends` by foldBackendSource. */
const backendSource: Fields = {
  service: domainName({
    doc: "Backends from this vigil service (its name as in services[].name, or its fqdn; an agent-registered service too): those its health view holds up. Give exactly one of service, static or srv.",
  }),
  static: list({
    item: staticBackend,
    minItems: 1,
    unique: { what: "backend", key: (b: LbStaticBackend) => formatHostPort({ host: b.address, port: b.port }) },
    doc: 'A fixed list of backends: "host:port" with an optional weight=N (default 1; 0 keeps it out of rotation), such as "10.0.0.5:80 weight=3" or "[2001:db8::5]:80".',
  }),
  srv: obj({
    optional: true,
    doc: "Backends discovered from DNS SRV records (target, port and weight of each record), looked up again every interval.",
    finish: timeoutBelowInterval("timeout", "interval"),
    fields: {
      lookup_server: targetHostPort,
      pattern: domainName({ required: true, doc: "The SRV name to look up, such as _http._tcp.app.example.com." }),
      interval: duration({ positive: true, default: "10s", doc: "Time between lookups." }),
      timeout: duration({ positive: true, default: "2s", doc: "How long one lookup may take; must be shorter than interval." }),
      failpolicy: enumOf(["keeplast", "setempty"], {
        default: "keeplast",
        doc: "When a lookup fails: keep the last list of backends (keeplast), or drop them all (setempty).",
      }),
    },
  }),
};

/** Replaces the one given source key with `backends`; names the keys when none or several are given. */
const foldBackendSource: Finish = (value, report) => {
  const given = SOURCE_KEYS.filter((key) => value[key] !== undefined);
  const { service, static: backends, srv, ...rest } = value;
  // A source key with a bad value is undefined here and already reported at its own path, which
  // keeps this report (same path) from adding a misleading second one.
  if (given.length === 0) report("service", "no backends: give exactly one of service, static or srv");
  if (given.length > 1) report(given[1]!, `give only one of service, static or srv (${given[0]} is set too)`);
  switch (given[0]) {
    case "service":
      return { ...rest, backends: { kind: "service", service } };
    case "static":
      return { ...rest, backends: { kind: "static", backends } };
    case "srv":
      return { ...rest, backends: { kind: "srv", ...(srv as object) } };
    default:
      return rest;
  }
};

/** Reports a name on more than one item of a list of {server_names}: which one would be chosen? */
function namesOnce(listKey: string, what: string): Finish {
  return (value, report) => {
    const items = (value[listKey] ?? []) as ({ server_names?: string[] } | undefined)[];
    const firstAt = new Map<string, number>();
    items.forEach((item, i) => {
      for (const name of item?.server_names ?? []) {
        const first = firstAt.get(name);
        if (first === undefined) firstAt.set(name, i);
        else if (first !== i) report(`${listKey}[${i}].server_names`, `${name} is also on ${listKey}[${first}]; a name may select only one ${what}`);
      }
    });
    return value;
  };
}

const udpFields: Fields = {
  session_timeout: duration({ positive: true, default: "30s", doc: "A client's session ends after this long without datagrams either way." }),
  max_requests: int({ min: 0, default: 0, doc: "Datagrams from the client after which its session ends; 0 = no limit." }),
  max_replies: int({ min: 0, default: 0, doc: "Replies from the backend after which the session ends (1 suits DNS); 0 = no limit." }),
};

/** A udp server's session settings when it gives none, as the keys' own defaults say. */
const UDP_DEFAULTS = readNode(obj({ fields: udpFields }), undefined, "", new Issues()) as LbServerConfig["udp"];

const NOT_WITH_UDP = {
  sni: "no TLS server name to route on over udp",
  backends_tls: "TLS towards backends needs tcp",
} as const;

/** Cross-key rules of one server: which keys its protocol allows; then the source is folded. */
const finishServer: Finish = (value, report) => {
  const protocol = value.protocol as LbServerConfig["protocol"] | undefined;
  if (protocol === "tls" && value.tls === undefined) report("tls", "required with protocol tls: the certificates to terminate TLS with");
  if (protocol !== undefined && protocol !== "tls" && value.tls !== undefined) {
    const passThrough = protocol === "tcp" ? " (a tcp server passes TLS through untouched, and sni can route it)" : "";
    report("tls", `only used with protocol tls, not ${protocol}${passThrough}`);
  }
  if (protocol !== undefined && protocol !== "udp" && value.udp !== undefined) report("udp", `only used with protocol udp, not ${protocol}`);
  if (protocol === "udp") {
    for (const [key, why] of Object.entries(NOT_WITH_UDP)) {
      if (value[key] !== undefined) report(key, `not available with protocol udp: ${why}`);
    }
    if ((value.proxy_protocol as { version?: number } | undefined)?.version === 1) {
      report("proxy_protocol", "version 1 is a line of text for TCP streams; over udp use version 2 (a header on every datagram)");
    }
  }
  return foldBackendSource({ ...value, udp: value.udp ?? UDP_DEFAULTS }, report);
};

/** One balancer server: the YAML list item, and the body of POST /api/v1/lb/servers. */
export const lbServer = obj({
  finish: finishServer,
  fields: {
    name: lbServerName,
    bind: hostPort({ required: true, doc: 'Address and port to accept clients on ("0.0.0.0:8080", "[::]:8080"; port 0 takes any free port).' }),
    protocol: enumOf(["tcp", "tls", "udp"], {
      default: "tcp",
      doc: "tcp: pass bytes through (TLS included, routed by sni when given). tls: terminate TLS with tls.certificates and send plain bytes on. udp: datagrams, one session per client address.",
    }),
    balance: enumOf(["weight", "roundrobin", "leastconn", "iphash", "leastbandwidth"], {
      default: "weight",
      doc: "How a backend is chosen for a new client: in proportion to its weight, in turn, the one with fewest connections, by a hash of the client address (the same client keeps its backend), or the one moving fewest bytes now.",
    }),
    max_connections: int({ min: 0, default: 0, doc: "Client connections (udp: sessions) at once; more are refused. 0 = no limit." }),
    client_idle_timeout: duration({ default: "0s", doc: "Close a client connection (and its backend's) after this long with no bytes moving either way; 0s = never." }),
    backend_idle_timeout: duration({ default: "0s", doc: "The same, counted on the backend connection; the pair closes at the shorter of the two; 0s = never." }),
    backend_connection_timeout: duration({ positive: true, default: "5s", doc: "How long to wait for one backend to accept before trying the next." }),
    connect_retries: int({ min: 0, max: 100, default: 2, doc: "Further backends tried, each once, after a connect fails or times out." }),
    proxy_protocol: obj({
      optional: true,
      doc: "Send the client's address to backends in a PROXY protocol header: first thing on each connection (tcp, tls), or before every datagram (udp, version 2 only).",
      fields: { version: int({ min: 1, max: 2, default: 1, doc: "1 (text) or 2 (binary)." }) },
    }),
    tls: obj({
      optional: true,
      doc: "protocol tls: terminate TLS with these certificates (required then, refused otherwise).",
      finish: namesOnce("certificates", "certificate"),
      fields: {
        certificates: list({
          required: true,
          minItems: 1,
          doc: "Certificates, chosen by the client's server name (SNI); the first one is used when none matches.",
          item: obj({
            fields: {
              cert_path: str({ required: true, doc: "PEM file with the certificate, followed by its chain." }),
              key_path: str({ required: true, doc: "PEM file with the private key." }),
              server_names: serverNames("Server names (SNI) this certificate is chosen for: exact names, or *.example.com for one label under it. Empty: the DNS names written in the certificate. The first certificate is also the default, for clients that send no name or one no certificate has."),
            },
          }),
        }),
      },
    }),
    sni: obj({
      optional: true,
      doc: "Route by the TLS server name the client asks for (protocol tls, or tcp passing TLS through) to other backends.",
      finish: namesOnce("routes", "route"),
      fields: {
        routes: list({
          required: true,
          minItems: 1,
          doc: "Each route: server names and, like the server itself, exactly one of service, static or srv.",
          item: obj({
            finish: foldBackendSource,
            fields: { server_names: serverNames("Server names that select this route: exact names, or *.example.com for one label under it (an exact name wins).", true), ...backendSource },
          }),
        }),
        unexpected_hostname: enumOf(["default", "deny"], {
          default: "default",
          doc: "No route matches, or the client sent no server name: use the server's own backends (default), or close the connection (deny).",
        }),
        read_timeout: duration({ positive: true, default: "2s", doc: "How long to wait for the client's TLS hello before giving up on it." }),
      },
    }),
    backends_tls: obj({
      optional: true,
      doc: "Connect to backends over TLS (tcp and tls only).",
      fields: {
        verify: bool({ default: true, doc: "Verify the backend's certificate. Turn off only for self-signed test backends." }),
        server_name: domainName({ doc: "Server name to send and verify; the backend address when unset." }),
        ca_path: str({ doc: "PEM file of the CAs to trust instead of the system's." }),
      },
    }),
    access: obj({
      doc: "Which client addresses may connect.",
      fields: {
        default: enumOf(["allow", "deny"], { default: "allow", doc: "What happens to a client no rule matches." }),
        rules: list({
          item: accessRule,
          default: [],
          doc: 'Rules in order, the first that matches the client decides: "allow CIDR" or "deny CIDR" (a bare address is that one address).',
        }),
      },
    }),
    udp: obj({ optional: true, doc: "protocol udp: client sessions (only with protocol udp).", fields: udpFields }),
    ...backendSource,
    healthcheck: obj({
      optional: true,
      doc: "The balancer's own check of each backend, on top of vigil's health view: a backend that fails it gets no new clients.",
      finish: timeoutBelowInterval("timeout", "interval"),
      fields: {
        kind: enumOf(["ping"], { default: "ping", doc: "ping: a TCP connect to the backend's address and port." }),
        interval: duration({ positive: true, default: "2s", doc: "Time between checks." }),
        timeout: duration({ positive: true, default: "500ms", doc: "How long one check may take; must be shorter than interval." }),
        fails: int({ min: 1, default: 1, doc: "Failed checks in a row that take a backend out." }),
        passes: int({ min: 1, default: 1, doc: "Good checks in a row that bring it back." }),
      },
    }),
  },
});

const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * Whether two servers would fight over one socket: the same transport (udp, or tcp for tcp and tls)
 * and port, on the same address or where one listens on every address. Port 0 never clashes.
 */
export function bindsOverlap(
  a: { protocol: LbServerConfig["protocol"]; bind: HostPort },
  b: { protocol: LbServerConfig["protocol"]; bind: HostPort },
): boolean {
  const transport = (protocol: string) => (protocol === "udp" ? "udp" : "tcp");
  if (transport(a.protocol) !== transport(b.protocol) || a.bind.port === 0 || a.bind.port !== b.bind.port) return false;
  return a.bind.host === b.bind.host || WILDCARDS.has(a.bind.host) || WILDCARDS.has(b.bind.host);
}

/** A server item that read without problems in its name, bind and protocol. */
const isWhole = (server: LbServerConfig | undefined): server is LbServerConfig =>
  server?.name !== undefined && server.bind !== undefined && server.protocol !== undefined;

const bindsOnce: Finish = (value, report) => {
  const servers = ((value.servers ?? []) as (LbServerConfig | undefined)[]).map((server, i) => ({ server, i }));
  for (const { server, i } of servers) {
    if (!isWhole(server)) continue;
    const clash = servers.find((other) => other.i < i && isWhole(other.server) && bindsOverlap(other.server, server));
    if (clash) {
      report(`servers[${i}].bind`, `${formatHostPort(server.bind)} (${server.protocol}) overlaps lb.servers[${clash.i}] (${clash.server!.name}, ${formatHostPort(clash.server!.bind)})`);
    }
  }
  return value;
};

export const lb = obj({
  doc: "The built-in L4 (TCP, TLS, UDP) load balancer, fed by the same health view as DNS. Servers made through the API (POST /api/v1/lb/servers) are kept in the database and run beside these; a name in this file cannot also be made there.",
  finish: bindsOnce,
  fields: {
    servers: list({
      item: lbServer,
      default: [],
      unique: { what: "server", key: (server: LbServerConfig) => server.name },
      doc: "Balancer servers, each listening on its own bind address.",
    }),
  },
});
