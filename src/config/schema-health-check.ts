// Health check keys: one union keyed on `type`, shared by services, their backends and agent backends.

import { formatDuration } from "../lib/duration.ts";
import { list, union, type Finish } from "./nodes.ts";
import { bool, domainName, duration, enumOf, int, mismatch, scalar, str } from "./scalars.ts";

/** Reports when a timeout is not shorter than the interval it runs in. */
export function timeoutBelowInterval(timeoutKey: string, intervalKey: string): Finish {
  return (value, report) => {
    const timeout = value[timeoutKey];
    const interval = value[intervalKey];
    if (typeof timeout === "number" && typeof interval === "number" && timeout >= interval) {
      report(timeoutKey, `must be shorter than ${intervalKey} (${formatDuration(timeout)} is not below ${formatDuration(interval)})`);
    }
    return value;
  };
}

const STATUS_RANGE = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/;

/** 200, "204" or "200-399" → {from, to}. */
const statusRange = scalar("HTTP status or range", 'an HTTP status or range such as "200-399"', (raw) => {
  const match = STATUS_RANGE.exec(raw.text.trim());
  const from = Number(match?.[1]);
  const to = match?.[2] === undefined ? from : Number(match[2]);
  if (!match || to < from) throw mismatch('an HTTP status or range such as "200-399"', raw);
  return { from, to };
}, {});

const httpFields = {
  method: enumOf(["GET", "HEAD", "POST", "PUT", "OPTIONS"], { default: "GET", doc: "HTTP method of the probe request." }),
  // Both go into the request line and head as written: printable ASCII only, nothing that could end a line.
  path: scalar("string", 'a path starting with "/" (printable ASCII, no spaces)', (raw) => {
    if (!/^\/[\x21-\x7e]*$/.test(raw.text)) throw mismatch('a path starting with "/" (printable ASCII, no spaces)', raw);
    return raw.text;
  }, { default: "/", doc: "Request path, with any query string." }),
  host: scalar("string", "a host name, optionally with :port (printable ASCII, no spaces)", (raw) => {
    if (!/^[\x21-\x7e]+$/.test(raw.text)) throw mismatch("a host name, optionally with :port (printable ASCII, no spaces)", raw);
    return raw.text;
  }, { doc: "Host header to send; the backend address when unset." }),
  expect_status: list({
    item: statusRange,
    single: true,
    default: "200-399",
    doc: 'Status codes that count as up: one code or range ("200-399"), or a list of them ([200, "300-302"]).',
  }),
  expect_body: str({ doc: "Text the response body must contain to count as up." }),
  tls_verify: bool({ default: true, doc: "Verify the backend's certificate (https). Turn off only for self-signed test backends." }),
  sni: str({ doc: "TLS server name to send (https); the host header or address when unset." }),
};

const variants = {
  http: httpFields,
  https: httpFields,
  tcp: {
    send: str({ doc: "Bytes to write once connected." }),
    expect: str({ doc: "Text the first reply must contain; without it, a completed connection counts as up." }),
  },
  icmp: {},
  script: {
    command: list({
      item: str({}),
      required: true,
      minItems: 1,
      expected: "a list: command and arguments, never a shell string",
      doc: "Program and arguments, run without a shell: exit 0 is up, 1 a warning (still up), anything else down. The target is in VIGIL_TARGET_ADDRESS, VIGIL_TARGET_PORT and VIGIL_CHECK_TYPE.",
    }),
    max_output: int({ min: 1, default: 4096, doc: "Bytes of the script's output kept for the event log." }),
  },
  dns: {
    query_name: domainName({ required: true, doc: "Name to ask the backend about." }),
    query_type: enumOf(["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"], { default: "A", doc: "Record type to ask for." }),
    expect_rcode: enumOf(["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"], { default: "NOERROR", doc: "Response code that counts as up." }),
    expect_answer: str({ doc: "One answer record's data must equal this, in canonical form (an address such as 192.0.2.1, or a name)." }),
  },
};

export const healthCheck = union({
  doc: "How this node probes the backend.",
  section: { name: "health_check", title: "Health checks" },
  on: "type",
  tag: enumOf(Object.keys(variants), { default: "http", doc: "Probe kind; it decides which of the keys below apply." }),
  common: {
    interval: duration({ positive: true, default: "5s", doc: "Time between probes." }),
    timeout: duration({ positive: true, default: "2s", doc: "How long one probe may take; must be shorter than interval." }),
    failure_threshold: int({ min: 1, default: 3, doc: "Failed probes in a row before an up backend is marked down." }),
    success_threshold: int({ min: 1, default: 2, doc: "Good probes in a row before a down backend is marked up." }),
  },
  variants,
  finish: timeoutBelowInterval("timeout", "interval"),
});
