// The whole configuration schema: every key with its type, default and meaning. load.ts validates
// with it and scripts/gen-config-doc.ts writes docs/config.md from it.

import { hostname } from "node:os";
import { type Finish, list, map, obj } from "./nodes.ts";
import { base64Key, bool, cidr, domainName, duration, enumOf, hostPort, int, str } from "./scalars.ts";
import { dns } from "./schema-dns.ts";
import { timeoutBelowInterval } from "./schema-health-check.ts";
import { agentBackends, geo, services } from "./schema-services.ts";
import { lb } from "./schema-lb.ts";

const gossipKey = base64Key({ bytes: 32 });

const removeAfterThreshold: Finish = (value, report) => {
  if (typeof value.threshold === "number" && typeof value.remove_after === "number" && value.remove_after <= value.threshold) {
    report("remove_after", "must be longer than threshold: a backend is first stale, then removed");
  }
  return value;
};

export const configSchema = obj({
  fields: {
    mode: enumOf(["standalone", "overwatch", "agent"], {
      default: "standalone",
      doc: "standalone: serve DNS from this node's own probes. overwatch: also take health claims from agents and peers over gossip. agent: run beside an application and announce its backends.",
    }),
    identity: obj({
      doc: "Who this node is.",
      fields: {
        node_id: str({ default: () => hostname(), defaultDoc: "the host name", doc: "Name of this node in gossip, events and metrics." }),
        region: str({ doc: "Region this node runs in." }),
        service_token: str({ doc: "Agent mode: the token of the service this agent belongs to (see agent_tokens)." }),
      },
    }),
    dns,
    agent_tokens: map({
      keyName: "service",
      key: domainName({}),
      value: str({}),
      default: {},
      doc: "Overwatch mode: the token each service's agents must present, by service name.",
    }),
    gossip: obj({
      doc: "Encrypted gossip between overwatches and agents.",
      fields: {
        bind_address: hostPort({
          defaultDoc: "0.0.0.0:7946 in overwatch mode; in agent mode, the local address that reaches the first overwatch, on a port the OS picks",
          doc: "Where to listen for gossip.",
        }),
        advertise_address: hostPort({
          defaultDoc: "bind_address, or this host's first non-loopback IPv4 address when binding to all",
          doc: "The address other nodes reach this one at.",
        }),
        encryption_key: { ...gossipKey, defaultDoc: "required in overwatch and agent modes", doc: "Key all gossip is encrypted with (AES-256); the same on every node." },
        keyring: list({ item: gossipKey, default: [], doc: "Older keys still accepted while a new encryption_key is rolled out." }),
        peers: list({ item: hostPort({}), default: [], doc: "Overwatch mode: the other overwatches." }),
        overwatch_nodes: list({ item: hostPort({}), default: [], doc: "Agent mode: the overwatches to announce to." }),
        min_peers_agree: int({
          min: 0,
          default: 0,
          doc: "Other overwatches that must also see a backend down before this node takes it out.",
        }),
      },
    }),
    validation: obj({
      doc: "Overwatch probes that check what agents claim.",
      finish: timeoutBelowInterval("check_timeout", "check_interval"),
      fields: {
        enabled: bool({ default: true, doc: "Probe agent-announced backends; this node's verdict overrides the agent's claim." }),
        check_interval: duration({ positive: true, default: "30s", doc: "Time between validation probes." }),
        check_timeout: duration({ positive: true, default: "5s", doc: "How long one validation probe may take." }),
      },
    }),
    stale: obj({
      doc: "What happens when an agent goes quiet.",
      finish: removeAfterThreshold,
      fields: {
        threshold: duration({ positive: true, default: "30s", doc: "Without a heartbeat this long, an agent's claims count as unknown." }),
        remove_after: duration({ positive: true, default: "5m", doc: "Without a heartbeat this long, the agent's backends are dropped." }),
      },
    }),
    api: obj({
      doc: "The HTTP API and status page.",
      fields: {
        enabled: bool({ default: true, doc: "Serve the API." }),
        address: hostPort({ default: "127.0.0.1:8080", doc: "Where to listen." }),
        allowed_networks: list({ item: cidr({}), default: ["127.0.0.0/8", "::1/128"], doc: "Client networks allowed to call the API." }),
        token: str({
          doc: "Bearer token every write (and peer key sync) must carry. Required when the API accepts writes on a non-loopback address.",
        }),
        read_only: bool({ default: false, doc: "Refuse every write (overrides, reload) with 403." }),
      },
    }),
    metrics: obj({
      doc: "Prometheus metrics.",
      fields: {
        enabled: bool({ default: true, doc: "Serve /metrics." }),
        address: hostPort({ default: "127.0.0.1:9090", doc: "Where to listen." }),
      },
    }),
    data_dir: str({ default: "/var/lib/vigil", doc: "Directory for the state database, the DNSSEC keys and, in agent mode, the agent's identity (agent-identity.json)." }),
    logging: obj({
      doc: "Log output.",
      fields: {
        level: enumOf(["debug", "info", "warn", "error"], { default: "info", doc: "Least severe level written." }),
        format: enumOf(["json", "text"], { default: "text", doc: "One JSON object per line, or readable text." }),
      },
    }),
    services,
    geo,
    backends: agentBackends,
    heartbeat: obj({
      doc: "Agent mode: heartbeats to the overwatches.",
      fields: {
        interval: duration({ positive: true, default: "10s", doc: "Time between heartbeats." }),
        missed_threshold: int({ min: 1, default: 3, doc: "Missed heartbeats after which the agent counts as gone." }),
      },
    }),
    lb,
  },
});
