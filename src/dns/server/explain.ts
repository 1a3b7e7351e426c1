// "What would vigil answer this client now?" without sending DNS: a query built as a resolver would
// send it (with ECS for the client's address, so geo policies see it), run through the same
// pipeline as real traffic, and the response decoded for people.

import * as packet from "dns-packet";
import { ipFamily } from "../../lib/cidr.ts";
import { recordDataText } from "../../lib/record-text.ts";
import { RRType } from "../types.ts";
import type { DnsPipeline } from "./pipeline.ts";

export interface Question {
  name: string;
  /** A type mnemonic: A, AAAA, TXT... */
  type: string;
  /** The client's address; the answer is the one a resolver at this address would get. */
  client: string;
}

export interface ExplainedRecord {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export interface Explained {
  rcode: string;
  authoritative: boolean;
  answers: ExplainedRecord[];
  authority: ExplainedRecord[];
  /** The ECS scope the answer was given for (how far it may be shared), or null without ECS. */
  ecs_scope: number | null;
}

/** True for a type vigil serves (upper-case mnemonic). */
export function isKnownType(type: string): boolean {
  return type in RRType && type !== "OPT";
}

export function explain(pipeline: DnsPipeline, question: Question): Explained {
  const family = ipFamily(question.client) ?? 4;
  const query = packet.encode({
    type: "query",
    id: 1,
    flags: 0,
    questions: [{ name: question.name, type: question.type.toUpperCase() as packet.RecordType, class: "IN" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 4096,
        options: [{ code: "CLIENT_SUBNET", family: family === 4 ? 1 : 2, sourcePrefixLength: family === 4 ? 32 : 128, scopePrefixLength: 0, ip: question.client }],
      } as unknown as packet.Answer,
    ],
  });
  // As over TCP: no size limit, so the whole answer comes back however large.
  const reply = pipeline.preview(query, question.client);
  if (!reply) throw new Error("the query could not be parsed");
  const response = packet.decode(Buffer.from(reply));
  const opt = response.additionals?.find((r) => r.type === "OPT") as { options?: { code: number; scopePrefixLength?: number }[] } | undefined;
  const ecs = opt?.options?.find((o) => o.code === 8);
  return {
    rcode: (response as { rcode?: string }).rcode ?? "NOERROR",
    authoritative: Boolean(response.flag_aa),
    answers: (response.answers ?? []).map(present),
    authority: (response.authorities ?? []).map(present),
    ecs_scope: ecs?.scopePrefixLength ?? null,
  };
}

function present(record: packet.Answer): ExplainedRecord {
  return { name: record.name, type: record.type, ttl: "ttl" in record ? (record.ttl ?? 0) : 0, data: recordDataText(record) };
}
