// The GSLB part of the schema: services with their backends, geo regions, and an agent's own backends.

import { ipFamily } from "../lib/cidr.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { AgentBackendConfig, BackendConfig, WhenAllDown } from "./types.ts";
import { list, obj } from "./nodes.ts";
import { bool, cidr, domainName, duration, enumOf, int, ip, mismatch, num, scalar, str } from "./scalars.ts";
import { healthCheck } from "./schema-health-check.ts";

const port = int({ min: 1, max: 65535, default: 80, doc: "Port the backend serves on." });
const weight = int({ min: 0, max: 1_000_000, default: 100, doc: "Share of answers under the weighted policy; 0 keeps the backend out of rotation." });
const region = str({ doc: "Geo region the backend is in: one of geo.regions, when regions are configured." });

/** 2 or "50%" → {count: 2} or {percent: 50}. */
const countOrPercent = scalar("integer or percent", 'a count such as 2 or a percentage such as "50%"', (raw) => {
  if (typeof raw.value === "number" && Number.isInteger(raw.value) && raw.value >= 0) return { count: raw.value };
  const match = /^(\d{1,3})%$/.exec(raw.text.trim());
  if (match && Number(match[1]) <= 100) return { percent: Number(match[1]) };
  throw mismatch('a count such as 2 or a percentage such as "50%"', raw);
}, {
  doc: "Backends kept in the answer even when probes say they are down, so a flapping check cannot empty a service. A count or a percentage of the backends.",
});

const backend = obj({
  fields: {
    address: ip({ required: true, doc: "IPv4 or IPv6 address served in A or AAAA answers." }),
    port,
    weight,
    region,
    priority: int({ min: 0, default: 1, doc: "Failover tier: the failover policy answers with the lowest tier that has healthy backends." }),
    health_check: { ...healthCheck, doc: "Overrides the service's health_check for this backend." },
    check_address: ip({ doc: "Address to probe instead of address (a management interface, say)." }),
    check_port: int({ min: 1, max: 65535, doc: "Port to probe instead of port." }),
  },
  finish: (value) => (typeof value.address === "string" ? { ...value, family: ipFamily(value.address) } : value),
});

const WHEN_ALL_DOWN = ["fail_open", "fail_closed", "last_known_good", "fallback"] as const;

/** Folds when_all_down and its sibling fallback list into the WhenAllDown union. */
function foldWhenAllDown(value: Record<string, unknown>, report: (key: string, problem: string) => void): unknown {
  const { fallback, ...service } = value;
  const mode = service.when_all_down as WhenAllDown["mode"] | undefined;
  if (mode === undefined) return service;
  const addresses = fallback as string[] | undefined;
  if (mode === "fallback") {
    if (!addresses?.length) report("fallback", 'required when when_all_down is "fallback": the addresses to answer with');
    return { ...service, when_all_down: { mode, addresses: addresses ?? [] } };
  }
  if (addresses !== undefined) report("fallback", `only used when when_all_down is "fallback", not "${mode}"`);
  return { ...service, when_all_down: { mode } };
}

export const services = list({
  default: [],
  doc: "Names this node answers for with the healthy subset of their backends.",
  item: obj({
    fields: {
      name: domainName({ required: true, doc: 'The label(s) under the zone: "app" in zone example.com answers app.example.com.' }),
      zone: domainName({ defaultDoc: "the only entry of dns.zones", doc: "Zone the service belongs to; one of dns.zones." }),
      policy: enumOf(["roundrobin", "weighted", "failover", "geo"], {
        default: "roundrobin",
        doc: "How backends are picked: rotate, by weight, by priority tier, or by the client's geo region.",
      }),
      ttl: int({ min: 0, max: 2147483647, defaultDoc: "dns.default_ttl", doc: "TTL of the service's answers, in seconds." }),
      max_answers: int({ min: 1, default: 8, doc: "Most addresses in one answer." }),
      when_all_down: enumOf(WHEN_ALL_DOWN, {
        default: "fail_open",
        doc: "When every backend is down: answer with all of them (fail_open), with no addresses (fail_closed), with the last healthy set (last_known_good), or with the fallback addresses.",
      }),
      fallback: list({ item: ip({}), doc: 'Addresses to answer with when when_all_down is "fallback".' }),
      min_healthy: countOrPercent,
      flap_damping: obj({
        doc: "A backend whose probe verdict changes too often is held out for a while, so it does not flip in and out of answers.",
        fields: {
          max_changes: int({ min: 0, default: 4, doc: "Verdict changes within window that start a hold-down; 0 turns damping off." }),
          window: duration({ positive: true, default: "60s", doc: "The window in which changes are counted." }),
          hold_down: duration({ positive: true, default: "120s", doc: "How long a flapping backend is held out after its last change." }),
        },
      }),
      health_check: healthCheck,
      backends: list({
        item: backend,
        required: true,
        minItems: 1,
        unique: { what: "backend", key: (b: BackendConfig) => formatHostPort({ host: b.address, port: b.port }) },
        doc: "The endpoints behind the name.",
      }),
    },
    finish: foldWhenAllDown,
  }),
});

export const geo = obj({
  doc: "Client regions for the geo policy, matched on the client address or its EDNS client subnet.",
  fields: {
    regions: list({
      default: [],
      unique: { what: "region", key: (r: { name: string }) => r.name },
      doc: "Named regions, each a set of client networks.",
      item: obj({
        fields: {
          name: str({ required: true, doc: "Region name, as used in backend region keys." }),
          networks: list({ item: cidr({}), required: true, minItems: 1, doc: "Client networks (CIDRs) in this region." }),
          location: obj({
            optional: true,
            doc: "Where the region is, to find the nearest region that has healthy backends.",
            fields: {
              lat: num({ min: -90, max: 90, required: true, doc: "Latitude in degrees." }),
              lon: num({ min: -180, max: 180, required: true, doc: "Longitude in degrees." }),
            },
          }),
        },
      }),
    }),
  },
});

export const agentBackends = list({
  default: [],
  doc: "Agent mode: the local backends this agent checks and announces to the overwatches.",
  unique: {
    what: "backend",
    key: (b: AgentBackendConfig) => `${b.service} ${formatHostPort({ host: b.address, port: b.port })}`,
  },
  item: obj({
    fields: {
      service: domainName({ required: true, doc: "Service the backend belongs to, as named in the overwatch's services." }),
      address: ip({ required: true, doc: "Address the backend serves on." }),
      port,
      weight,
      region,
      health_check: healthCheck,
      predictive: obj({
        optional: true,
        doc: "Report the backend as overloaded from host signals, before its probes start failing.",
        fields: {
          enabled: bool({ default: false, doc: "Turn predictive signals on." }),
          cpu_threshold: num({ min: 0, max: 100, default: 85, doc: "CPU use, in percent, above which the agent reports the backend as overloaded." }),
          memory_threshold: num({ min: 0, max: 100, default: 90, doc: "Memory use, in percent, above which the agent reports the backend as overloaded." }),
          error_rate_threshold: num({ min: 0, max: 100, default: 5, doc: "Error rate, in percent, above which the agent reports the backend as overloaded." }),
          check_interval: duration({ positive: true, default: "10s", doc: "Time between samples." }),
        },
      }),
    },
  }),
});
