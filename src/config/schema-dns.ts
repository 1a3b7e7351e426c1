// The `dns` section of the schema: listeners, zones, static records, SOA, DNSSEC and limits.

import { DNSSEC_OFF_ACKNOWLEDGMENT } from "./types.ts";
import { list, obj } from "./nodes.ts";
import { bool, domainName, duration, enumOf, hostPort, httpUrl, int, ip, str } from "./scalars.ts";

const SECONDS = { min: 0, max: 2147483647 };

/** Turning DNSSEC off needs the exact acknowledgment sentence, so it is never done by accident. */
function requireAcknowledgment(value: Record<string, unknown>, report: (key: string, problem: string) => void): unknown {
  if (value.enabled === false && value.security_acknowledgment !== DNSSEC_OFF_ACKNOWLEDGMENT) {
    report("security_acknowledgment", `turning DNSSEC off requires security_acknowledgment: "${DNSSEC_OFF_ACKNOWLEDGMENT}"`);
  }
  return value;
}

const dnssec = obj({
  doc: "Online DNSSEC signing of every answer.",
  finish: requireAcknowledgment,
  fields: {
    enabled: bool({ default: true, doc: "Sign answers. Turning it off needs security_acknowledgment." }),
    security_acknowledgment: str({ doc: `Must be exactly "${DNSSEC_OFF_ACKNOWLEDGMENT}" when enabled is false.` }),
    algorithm: enumOf(["ecdsap256sha256", "ed25519"], { default: "ecdsap256sha256", doc: "Signing algorithm (DNSSEC algorithm 13 or 15)." }),
    key_type: enumOf(["csk", "ksk_zsk"], { default: "csk", doc: "One combined signing key, or separate key- and zone-signing keys." }),
    denial: enumOf(["nsec", "compact"], { default: "nsec", doc: "Proof of non-existence: NSEC chains, or compact denial of existence (RFC 9824)." }),
    signature_validity: duration({ positive: true, default: "7d", doc: "How long a signature stays valid." }),
    inception_offset: duration({ default: "1h", doc: "How far back a signature's inception is set, for resolvers with slow clocks." }),
    key_sync: obj({
      doc: "Sharing signing keys between overwatches, so every one serves the same DS.",
      fields: {
        peers: list({ item: httpUrl({}), default: [], doc: "API URLs of the other overwatches to fetch keys from." }),
        poll_interval: duration({ positive: true, default: "1h", doc: "Time between key fetches." }),
      },
    }),
  },
});

export const dns = obj({
  doc: "The authoritative DNS server.",
  fields: {
    listen_address: list({
      item: hostPort({}),
      single: true,
      minItems: 1,
      default: ["0.0.0.0:53"],
      doc: 'Where to serve DNS over UDP and TCP: one host:port or a list ("[::]:53" for IPv6).',
    }),
    zones: list({
      item: domainName({}),
      default: [],
      unique: { what: "zone", key: (zone: string) => zone },
      doc: "Zones this node is authoritative for.",
    }),
    default_ttl: int({ ...SECONDS, default: 30, doc: "TTL of service answers, in seconds, when a service sets none." }),
    nameservers: list({
      default: [],
      doc: "The zones' NS names; addresses become glue when a name lies inside a zone.",
      item: obj({
        fields: {
          name: domainName({ required: true, doc: "Name server host name." }),
          addresses: list({ item: ip({}), default: [], doc: "Its IPv4 and IPv6 addresses." }),
        },
      }),
    }),
    records: str({
      allowEmpty: true,
      default: "",
      doc: "Static records in zone-file syntax (a YAML block string); relative names are relative to the first zone.",
    }),
    soa: obj({
      doc: "Values of the zones' SOA records.",
      fields: {
        rname: domainName({ defaultDoc: "hostmaster.<zone>", doc: "Responsible mailbox in name form (hostmaster.example.com)." }),
        refresh: int({ ...SECONDS, default: 3600, doc: "SOA refresh, in seconds." }),
        retry: int({ ...SECONDS, default: 600, doc: "SOA retry, in seconds." }),
        expire: int({ ...SECONDS, default: 1209600, doc: "SOA expire, in seconds." }),
        minimum: int({ ...SECONDS, default: 30, doc: "Negative-caching TTL, in seconds." }),
      },
    }),
    dnssec,
    max_udp_size: int({
      min: 512,
      max: 4096,
      default: 1232,
      doc: "Largest UDP response sent, whatever the client advertises; larger answers are truncated so the client retries over TCP.",
    }),
    tcp: obj({
      doc: "DNS over TCP.",
      fields: {
        idle_timeout: duration({ positive: true, default: "10s", doc: "Close a connection after this long without a query." }),
        max_connections: int({ min: 1, default: 1000, doc: "Most TCP connections open at once." }),
      },
    }),
    response_cache: obj({
      doc: "Cache of fully built responses.",
      fields: { max_entries: int({ min: 0, default: 100000, doc: "Most responses kept." }) },
    }),
  },
});
