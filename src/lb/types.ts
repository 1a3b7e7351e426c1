// The balancer's shared shapes. A source (a vigil service, a static list, SRV discovery) tells a
// pool which targets exist; the pool owns one member per target with its live counters and elects
// one for each new client (gobetween's habit: election is a small pure function over the members).
// The TCP and UDP proxies only ask the pool; the metrics and the API only read stats.

/** A backend a source offers: `${address}:${port}` is its identity (IPv6 in brackets). */
export interface LbTarget {
  address: string;
  port: number;
  weight: number;
}

/** Feeds a pool; calls onChange with the whole current list (healthy targets only) whenever it changes. */
export interface BackendSource {
  start(onChange: (targets: readonly LbTarget[]) => void): void;
  stop(): void;
}

/** Upper bounds, in seconds, of the connect-latency buckets every member keeps. */
export const CONNECT_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/** Live counters of one backend in one server's pool. */
export interface LbBackendStats {
  address: string;
  port: number;
  weight: number;
  /** False while the balancer's own ping check holds it out. */
  healthy: boolean;
  active: number;
  total: number;
  /** Connects that failed or timed out. */
  errors: number;
  /** Bytes from client to backend, and back. */
  bytesIn: number;
  bytesOut: number;
  /** Connect latency: non-cumulative counts per CONNECT_BUCKETS_S bound, one more for +Inf. */
  connect: { counts: readonly number[]; sum: number; count: number };
}

/** What a server counts as clients come and go; its stats add who it is and what is open now. */
export interface ServerCounters {
  total: number;
  /** Refused at max_connections, or no backend to send to. */
  refused: number;
  /** Denied by the access rules. */
  denied: number;
  /** Connections that ended in an error (every backend failed, TLS handshake failed, ...). */
  errors: number;
  bytesIn: number;
  bytesOut: number;
}

/** Live counters of one balancer server. */
export interface LbServerStats extends ServerCounters {
  name: string;
  protocol: "tcp" | "tls" | "udp";
  /** "host:port" it is bound to. */
  bind: string;
  /** draining: removed from the config, no longer accepting, waiting for its connections to end. */
  state: "running" | "draining";
  /** Open client connections (UDP: live sessions). */
  active: number;
  backends: LbBackendStats[];
}

/** A server's stats from its parts; both proxies report the same shape. */
export function serverStats(
  config: { name: string; protocol: LbServerStats["protocol"] },
  bind: string,
  draining: boolean,
  active: number,
  counters: ServerCounters,
  backends: LbBackendStats[],
): LbServerStats {
  const { total, refused, denied, errors, bytesIn, bytesOut } = counters;
  return { name: config.name, protocol: config.protocol, bind, state: draining ? "draining" : "running", active, total, refused, denied, errors, bytesIn, bytesOut, backends };
}
