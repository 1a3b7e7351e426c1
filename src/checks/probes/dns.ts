// dns probe: one UDP query (random id, RD set so a recursive backend answers too); up when the reply's
// rcode is `expect_rcode` and, with `expect_answer`, some answer record's data equals it in presentation
// form (an address, a name, "10 mail.example.com" for MX). Replies from elsewhere, or whose id or question
// differ, are ignored.

import * as dnsPacket from "dns-packet";
import { recordDataText } from "../../lib/record-text.ts";
import { formatIp, ipFamily, parseIp } from "../../lib/cidr.ts";
import { defineProbe, describeError, down, untilAborted, up, type SettingsOf, type Verdict } from "./result.ts";

type DnsSettings = SettingsOf<"dns">;

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export const dnsProbe = defineProbe(["dns"], async (settings, target, signal) => {
  const id = crypto.getRandomValues(new Uint16Array(1))[0]!;
  const question: dnsPacket.Question = { name: settings.query_name, type: settings.query_type as dnsPacket.RecordType, class: "IN" };
  let settle!: (verdict: Verdict) => void;
  const verdict = new Promise<Verdict>((resolve) => (settle = resolve));
  // A connected socket: the kernel drops datagrams from anywhere but the target.
  const socket = await Bun.udpSocket({
    hostname: ipFamily(target.address) === 6 ? "::" : "0.0.0.0",
    connect: { hostname: target.address, port: target.port },
    socket: {
      data(_socket, bytes) {
        const packet = decodeOrNull(bytes);
        if (packet && answersQuery(packet, id, question)) settle(judge(settings, packet));
      },
      // Bun passes the error alone (the socket is `this`), unlike its typings; without this handler an
      // ICMP port unreachable would be an uncaught exception.
      error(...args: unknown[]) {
        settle(down(describeUdpError(args.find((arg) => arg instanceof Error))));
      },
    },
  });
  try {
    socket.send(dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [question] }));
    return await untilAborted(verdict, signal);
  } finally {
    socket.close();
  }
});

/** Over UDP, "refused" is the ICMP port unreachable that came back. */
function describeUdpError(err: unknown): string {
  return (err as { code?: unknown } | undefined)?.code === "ECONNREFUSED" ? "port unreachable" : describeError(err);
}

function decodeOrNull(bytes: Buffer): dnsPacket.DecodedPacket | null {
  try {
    return dnsPacket.decode(bytes);
  } catch {
    return null;
  }
}

/** A reply to the query with this id and question (the balancer's SRV lookups match replies the same way). */
export function answersQuery(packet: dnsPacket.DecodedPacket, id: number, question: dnsPacket.Question): boolean {
  const asked = packet.questions?.[0];
  return (
    packet.flag_qr &&
    packet.id === id &&
    packet.questions?.length === 1 &&
    asked !== undefined &&
    asked.name.toLowerCase() === question.name.toLowerCase() &&
    asked.type === question.type &&
    asked.class === question.class
  );
}

function judge(settings: DnsSettings, reply: dnsPacket.DecodedPacket): Verdict {
  const rcode = (reply.flags ?? 0) & 0x0f;
  const rcodeName = RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
  if (rcodeName !== settings.expect_rcode) return down(`${rcodeName}, expected ${settings.expect_rcode}`);
  const data = (reply.answers ?? []).map(recordDataText);
  if (settings.expect_answer === undefined) return up(`${rcodeName}, ${data.length} answer${data.length === 1 ? "" : "s"}`);
  const wanted = canonical(settings.expect_answer);
  if (data.some((d) => canonical(d) === wanted)) return up(`${rcodeName}, answer ${settings.expect_answer}`);
  if (data.length === 0) return down(`no answer, expected ${settings.expect_answer}`);
  const shown = data.length > 3 ? [...data.slice(0, 3), "…"] : data;
  return down(`answers ${shown.join(", ")}; expected ${settings.expect_answer}`);
}

/** Addresses in canonical form, names without case or trailing dot, so "2001:DB8::1" equals "2001:db8:0::1". */
function canonical(text: string): string {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text.toLowerCase().replace(/\.$/, "");
}
