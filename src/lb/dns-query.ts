// One DNS question to one server: over UDP, again over TCP when the reply is truncated. Replies whose
// id or question differ are not ours and are ignored; a reply that does not decode fails the query at
// once (waiting out the timeout would only hide what is wrong with the server).

import * as dnsPacket from "dns-packet";
import type { HostPort } from "../config/types.ts";
import { describeError, untilAborted } from "../checks/probes/result.ts";
import { answersQuery } from "../checks/probes/dns.ts";
import { ipFamily } from "../lib/cidr.ts";
import { formatHostPort } from "../lib/hostport.ts";

/** Big enough for a few dozen SRV records with their addresses, small enough not to fragment (DNS flag day 2020). */
const EDNS_UDP_SIZE = 1232;

export type DnsReply = dnsPacket.DecodedPacket;

/** "NOERROR", "NXDOMAIN"...: dns-packet decodes the name, though its typings leave it out. */
export function rcodeName(reply: DnsReply): string {
  return (reply as { rcode?: string }).rcode ?? `RCODE_${(reply.flags ?? 0) & 0x0f}`;
}

/** Asks `server` one question; rejects with a short reason (timeout = the signal's abort). */
export async function queryDns(server: HostPort, name: string, type: dnsPacket.RecordType, signal: AbortSignal): Promise<DnsReply> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0]!;
  const question: dnsPacket.Question = { name, type, class: "IN" };
  const query: dnsPacket.Packet = {
    type: "query",
    id,
    questions: [question],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: EDNS_UDP_SIZE } as dnsPacket.Answer],
  };
  const ours = (reply: DnsReply) => answersQuery(reply, id, question);
  const where = formatHostPort(server);
  const overUdp = await exchangeUdp(server, dnsPacket.encode(query), ours, where, signal);
  if (!overUdp.flag_tc) return overUdp;
  return exchangeTcp(server, dnsPacket.streamEncode(query), ours, where, signal);
}

function decodeOrFail(bytes: Buffer, where: string): DnsReply {
  try {
    return dnsPacket.decode(bytes);
  } catch (err) {
    throw new Error(`malformed reply from ${where}: ${describeError(err)}`);
  }
}

/** A reply to wait for, and the two ways it ends. */
function pendingReply() {
  let settle!: (reply: DnsReply) => void;
  let fail!: (err: Error) => void;
  const reply = new Promise<DnsReply>((resolve, reject) => ((settle = resolve), (fail = reject)));
  // A failure before anyone waits (a socket error during connect) must not count as unhandled.
  reply.catch(() => {});
  return { reply, settle, fail };
}

async function exchangeUdp(
  server: HostPort,
  query: Uint8Array,
  ours: (r: DnsReply) => boolean,
  where: string,
  signal: AbortSignal,
): Promise<DnsReply> {
  const { reply, settle, fail } = pendingReply();
  // Connected: the kernel drops datagrams from anywhere but the server.
  const socket = await Bun.udpSocket({
    hostname: ipFamily(server.host) === 6 ? "::" : "0.0.0.0",
    connect: { hostname: server.host, port: server.port },
    socket: {
      data(_socket, bytes) {
        try {
          const packet = decodeOrFail(bytes, where);
          if (ours(packet)) settle(packet);
        } catch (err) {
          fail(err as Error);
        }
      },
      // Bun passes the error alone here, unlike its typings (see the dns probe).
      error(...args: unknown[]) {
        const err = args.find((arg) => arg instanceof Error);
        const refused = (err as { code?: unknown } | undefined)?.code === "ECONNREFUSED";
        fail(new Error(`${where}: ${refused ? "port unreachable" : describeError(err)}`));
      },
    },
  });
  try {
    if (signal.aborted) throw signal.reason;
    socket.send(query);
    return await untilAborted(reply, signal);
  } finally {
    socket.close();
  }
}

async function exchangeTcp(
  server: HostPort,
  framed: Uint8Array,
  ours: (r: DnsReply) => boolean,
  where: string,
  signal: AbortSignal,
): Promise<DnsReply> {
  const { reply, settle, fail } = pendingReply();
  let unsent = framed;
  let received = Buffer.alloc(0);
  const socket = await Bun.connect({
    hostname: server.host,
    port: server.port,
    socket: {
      open(s) {
        unsent = unsent.subarray(Math.max(0, s.write(unsent)));
      },
      drain(s) {
        if (unsent.length > 0) unsent = unsent.subarray(Math.max(0, s.write(unsent)));
      },
      data(_s, chunk) {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        try {
          const packet = decodeOrFail(received.subarray(2, 2 + received.readUInt16BE(0)), where);
          if (ours(packet)) settle(packet);
          else fail(new Error(`${where}: the TCP reply does not answer the question`));
        } catch (err) {
          fail(err as Error);
        }
      },
      end: () => fail(new Error(`${where}: TCP connection closed before a reply`)),
      close: () => fail(new Error(`${where}: TCP connection closed before a reply`)),
      error: (_s, err) => fail(new Error(`${where}: ${describeError(err)}`)),
    },
  }).catch((err: unknown) => {
    throw new Error(`${where}: ${describeError(err)}`);
  });
  try {
    if (signal.aborted) throw signal.reason;
    return await untilAborted(reply, signal);
  } finally {
    socket.terminate();
  }
}
