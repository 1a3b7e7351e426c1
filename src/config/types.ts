// The validated, normalized configuration. Keys keep their YAML names so an operator's file and this
// type read the same; durations are milliseconds, set once at load; addresses are parsed.

export type Mode = "overwatch" | "agent" | "standalone";

/** A parsed "host:port" ("[::1]:53" for IPv6). */
export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  mode: Mode;
  identity: IdentityConfig;
  dns: DnsConfig;
  /** service name → token agents of that service must present. */
  agent_tokens: Record<string, string>;
  gossip: GossipConfig;
  validation: ValidationConfig;
  stale: StaleConfig;
  api: ApiConfig;
  metrics: MetricsConfig;
  data_dir: string;
  logging: LoggingConfig;
  services: ServiceConfig[];
  geo: GeoConfig;
  /** Agent mode: the local backends this agent checks and announces. */
  backends: AgentBackendConfig[];
  heartbeat: HeartbeatConfig;
  /** The built-in L4 load balancer. */
  lb: LbConfig;
}

export interface IdentityConfig {
  node_id: string;
  region?: string;
  /** Agent mode: the token of the service this agent belongs to. */
  service_token?: string;
}

export interface DnsConfig {
  listen_address: HostPort[];
  /** Zone apex names, lower case, no trailing dot. */
  zones: string[];
  /** Seconds. */
  default_ttl: number;
  nameservers: NameserverConfig[];
  /** Static records, zone-file text ($ORIGIN/$TTL allowed; relative names are relative to the first zone). */
  records: string;
  soa: SoaConfig;
  dnssec: DnssecConfig;
  /** Largest UDP response we send, whatever the client advertises (RFC 9715 / DNS flag day 2020). */
  max_udp_size: number;
  tcp: { idle_timeout: number; max_connections: number };
  response_cache: { max_entries: number };
}

export interface NameserverConfig {
  /** Absolute name, lower case, no trailing dot. */
  name: string;
  addresses: string[];
}

export interface SoaConfig {
  /** Responsible mailbox in name form (hostmaster.example.com); default hostmaster.<zone>. */
  rname?: string;
  /** Seconds. */
  refresh: number;
  retry: number;
  expire: number;
  /** Negative-caching TTL (RFC 2308), seconds. */
  minimum: number;
}

export const DNSSEC_OFF_ACKNOWLEDGMENT = "I understand that disabling DNSSEC allows DNS spoofing attacks";

export interface DnssecConfig {
  enabled: boolean;
  security_acknowledgment?: string;
  algorithm: "ecdsap256sha256" | "ed25519";
  key_type: "csk" | "ksk_zsk";
  denial: "nsec" | "compact";
  /** Milliseconds. */
  signature_validity: number;
  inception_offset: number;
  key_sync: { peers: string[]; poll_interval: number };
}

export interface GossipConfig {
  bind_address?: HostPort;
  advertise_address?: HostPort;
  /** Base64 of a 32-byte AES-256 key; required in overwatch and agent modes. */
  encryption_key?: string;
  /** Extra keys accepted for decryption during a rotation (base64, 32 bytes each). */
  keyring: string[];
  /** Overwatch mode: the other overwatches. */
  peers: HostPort[];
  /** Agent mode: the overwatches to announce to. */
  overwatch_nodes: HostPort[];
  /** Other overwatches that must also see a backend down before it is taken out. */
  min_peers_agree: number;
}

export interface ValidationConfig {
  enabled: boolean;
  check_interval: number;
  check_timeout: number;
}

export interface StaleConfig {
  threshold: number;
  remove_after: number;
}

export interface ApiConfig {
  enabled: boolean;
  address: HostPort;
  allowed_networks: string[];
  token?: string;
  read_only: boolean;
}

export interface MetricsConfig {
  enabled: boolean;
  address: HostPort;
}

export interface LoggingConfig {
  level: "debug" | "info" | "warn" | "error";
  format: "json" | "text";
}

export type PolicyName = "roundrobin" | "weighted" | "failover" | "geo";

export type WhenAllDown =
  | { mode: "fail_open" }
  | { mode: "fail_closed" }
  | { mode: "last_known_good" }
  | { mode: "fallback"; addresses: string[] };

export interface ServiceConfig {
  /** The label(s) under the zone, e.g. "app". */
  name: string;
  zone: string;
  /** name + "." + zone, lower case. */
  fqdn: string;
  policy: PolicyName;
  /** Seconds. */
  ttl: number;
  max_answers: number;
  when_all_down: WhenAllDown;
  /** Count of backends that stay in whatever probes say; percent is resolved against the backend count. */
  min_healthy?: { count: number } | { percent: number };
  flap_damping: FlapDampingConfig;
  health_check?: HealthCheckConfig;
  backends: BackendConfig[];
}

export interface FlapDampingConfig {
  /** Verdict changes within `window` that start a hold-down; 0 = off. */
  max_changes: number;
  window: number;
  hold_down: number;
}

export interface BackendConfig {
  address: string;
  /** 4 or 6, derived from address. */
  family: 4 | 6;
  port: number;
  weight: number;
  region?: string;
  /** Failover tier: lower is preferred. */
  priority: number;
  health_check?: HealthCheckConfig;
  check_address?: string;
  check_port?: number;
}

export interface AgentBackendConfig {
  service: string;
  address: string;
  port: number;
  weight: number;
  region?: string;
  health_check?: HealthCheckConfig;
  predictive?: PredictiveConfig;
}

export interface PredictiveConfig {
  enabled: boolean;
  cpu_threshold: number;
  memory_threshold: number;
  error_rate_threshold: number;
  check_interval: number;
}

export interface HeartbeatConfig {
  interval: number;
  missed_threshold: number;
}

interface HealthCheckCommon {
  interval: number;
  timeout: number;
  failure_threshold: number;
  success_threshold: number;
}

export type HealthCheckConfig = HealthCheckCommon &
  (
    | {
        type: "http" | "https";
        method: string;
        path: string;
        host?: string;
        /** Inclusive status ranges that count as up; default 200-399. */
        expect_status: { from: number; to: number }[];
        expect_body?: string;
        tls_verify: boolean;
        sni?: string;
      }
    | { type: "tcp"; send?: string; expect?: string }
    | { type: "icmp" }
    | { type: "script"; command: string[]; max_output: number }
    | { type: "dns"; query_name: string; query_type: string; expect_rcode: string; expect_answer?: string }
  );

export interface GeoConfig {
  regions: GeoRegion[];
}

export interface GeoRegion {
  name: string;
  /** CIDRs whose clients belong to this region. */
  networks: string[];
  /** Latitude and longitude, used to find the nearest region with healthy backends. */
  location?: { lat: number; lon: number };
}

export type LbBalance = "weight" | "roundrobin" | "leastconn" | "iphash" | "leastbandwidth";

/** Where a balancer's backends come from: exactly one kind per server (or SNI route). */
export type LbBackendSource =
  /** A vigil service: its backends, in and out as its effective health says. */
  | { kind: "service"; service: string }
  | { kind: "static"; backends: LbStaticBackend[] }
  | {
      kind: "srv";
      /** DNS server asked for the SRV records. */
      lookup_server: HostPort;
      /** The SRV name, e.g. _http._tcp.app.example.com. */
      pattern: string;
      /** Milliseconds between lookups. */
      interval: number;
      timeout: number;
      /** On a failed lookup: keep the last list, or drop every backend. */
      failpolicy: "keeplast" | "setempty";
    };

export interface LbStaticBackend {
  address: string;
  port: number;
  weight: number;
}

export interface LbServerConfig {
  /** Unique; names the server in the API, metrics and logs. */
  name: string;
  bind: HostPort;
  protocol: "tcp" | "tls" | "udp";
  balance: LbBalance;
  /** Client connections at once; 0 = no limit. */
  max_connections: number;
  /** Milliseconds without a byte moving either way before the pair is closed; 0 = never. */
  client_idle_timeout: number;
  backend_idle_timeout: number;
  /** Milliseconds to connect to one backend before trying the next. */
  backend_connection_timeout: number;
  /** Further backends tried after a failed connect. */
  connect_retries: number;
  /** PROXY protocol header sent to backends first. */
  proxy_protocol?: { version: 1 | 2 };
  /** protocol tls: terminate TLS with these certificates; the first is the default. */
  tls?: { certificates: LbCertificate[] };
  /** Route by TLS server name to other backend pools (works for tls and for tcp passthrough). */
  sni?: LbSniConfig;
  /** Connect to backends over TLS. */
  backends_tls?: { verify: boolean; server_name?: string; ca_path?: string };
  /** Ordered rules, first match wins; `default` when none matches. */
  access: { default: "allow" | "deny"; rules: { action: "allow" | "deny"; network: string }[] };
  /** protocol udp: sessions per client address. */
  udp: { session_timeout: number; max_requests: number; max_replies: number };
  backends: LbBackendSource;
  /** The balancer's own check, on top of (or instead of) vigil's health view. */
  healthcheck?: { kind: "ping"; interval: number; timeout: number; fails: number; passes: number };
}

export interface LbCertificate {
  cert_path: string;
  key_path: string;
  /** Names this certificate is chosen for; empty = the names in the certificate are not checked (default). */
  server_names: string[];
}

export interface LbSniConfig {
  routes: { server_names: string[]; backends: LbBackendSource }[];
  /** No route matches, or no SNI: use the server's own backends, or refuse. */
  unexpected_hostname: "default" | "deny";
  /** Milliseconds to wait for the ClientHello. */
  read_timeout: number;
}

export interface LbConfig {
  servers: LbServerConfig[];
}
