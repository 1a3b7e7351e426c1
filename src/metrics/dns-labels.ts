// Label values for DNS series: type mnemonics and rcode names as dig prints them, numbers otherwise.

import { typeName } from "../dns/zone/type-names.ts";

/** RFC 6895 §2.3 names; vigil itself sends NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, BADVERS. */
const RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  11: "DSOTYPENI",
  16: "BADVERS",
  17: "BADKEY",
  18: "BADTIME",
  19: "BADMODE",
  20: "BADNAME",
  21: "BADALG",
  22: "BADTRUNC",
  23: "BADCOOKIE",
};

export function rcodeLabel(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** "A", "DNSKEY", "TYPE65280"; "other" past the counters' cap, "none" for an unreadable question. */
export function qtypeLabel(qtype: number | "other" | "none"): string {
  return typeof qtype === "number" ? typeName(qtype) : qtype;
}
