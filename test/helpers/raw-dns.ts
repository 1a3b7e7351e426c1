// Hand-made packets over real UDP, for what dig cannot send (odd cases, broken packets).

import * as dnsPacket from "dns-packet";

export interface RawReply {
  bytes: Uint8Array;
  id: number;
  rcode: number;
  flags: number;
  questionCount: number;
  answerCount: number;
  /** The question name exactly as the server wrote it, letter case included. */
  questionName: string;
  decoded?: dnsPacket.Packet;
}

/** Sends one datagram and waits (bounded) for the reply; null if none came. */
export async function exchangeUdp(port: number, packet: Uint8Array, timeoutMs = 2000, host = "127.0.0.1"): Promise<Uint8Array | null> {
  let resolveReply!: (b: Uint8Array | null) => void;
  const reply = new Promise<Uint8Array | null>((r) => (resolveReply = r));
  const socket = await Bun.udpSocket({
    socket: {
      data(_s, buf) {
        resolveReply(new Uint8Array(buf));
      },
    },
  });
  const timer = setTimeout(() => resolveReply(null), timeoutMs);
  socket.send(packet, port, host);
  const bytes = await reply;
  clearTimeout(timer);
  socket.close();
  return bytes;
}

export async function sendUdp(port: number, name: string, type: number, id = 0x1234): Promise<RawReply> {
  const query = dnsPacket.encode({
    type: "query",
    id,
    flags: 0,
    questions: [{ name, type: typeName(type) as dnsPacket.RecordType, class: "IN" }],
  });
  const bytes = await exchangeUdp(port, query);
  if (!bytes) throw new Error(`no reply for ${name}`);
  return readReply(bytes);
}

export function readReply(bytes: Uint8Array): RawReply {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  const questionCount = view.getUint16(4);
  let questionName = "";
  if (questionCount > 0) {
    const labels: string[] = [];
    for (let i = 12; bytes[i]! !== 0; i += bytes[i]! + 1) labels.push(new TextDecoder().decode(bytes.subarray(i + 1, i + 1 + bytes[i]!)));
    questionName = labels.join(".");
  }
  let decoded: dnsPacket.Packet | undefined;
  try {
    decoded = dnsPacket.decode(Buffer.from(bytes));
  } catch {
    decoded = undefined;
  }
  return { bytes, id: view.getUint16(0), rcode: flags & 0x0f, flags, questionCount, answerCount: view.getUint16(6), questionName, decoded };
}

function typeName(type: number): string {
  const names: Record<number, string> = { 1: "A", 28: "AAAA", 16: "TXT", 6: "SOA", 2: "NS", 15: "MX" };
  return names[type] ?? "A";
}

/** dns-packet decodes the rcode but its types do not declare it. */
export function rcodeOf(packet: dnsPacket.Packet): string | undefined {
  return (packet as { rcode?: string }).rcode;
}
