// A decoded record's data in presentation form, for people and for comparing with what an operator
// wrote ("10 mail.example.com", "v=spf1 -all").

import type * as dnsPacket from "dns-packet";

export function recordDataText(answer: dnsPacket.Answer): string {
  switch (answer.type) {
    case "MX":
      return `${answer.data.preference} ${answer.data.exchange}`;
    case "SRV":
      return `${answer.data.priority ?? 0} ${answer.data.weight ?? 0} ${answer.data.port} ${answer.data.target}`;
    case "SOA": {
      const soa = answer.data;
      return `${soa.mname} ${soa.rname} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
    }
    case "TXT":
      return [answer.data].flat().map(String).join("");
    default: {
      const data = (answer as { data?: unknown }).data;
      if (typeof data === "string") return data;
      // DNSKEY, RRSIG, DS...: their fields, with bytes in base64.
      return data === undefined ? "" : JSON.stringify(data, (_key, value) => (value?.type === "Buffer" ? Buffer.from(value.data).toString("base64") : value));
    }
  }
}
