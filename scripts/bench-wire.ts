// Micro-benchmark for the DNS wire layer: ns per operation on typical queries and responses.
// Run: bun scripts/bench-wire.ts   (not a test; numbers depend on the machine)

import * as packet from "dns-packet";
import { RRType, type RR } from "../src/dns/types.ts";
import { encodeEcsOption } from "../src/dns/wire/ecs.ts";
import { appendRecord, encodeOptRecord, encodeResponse, patchCachedResponse, truncatedResponse } from "../src/dns/wire/encode.ts";
import { parseQuery } from "../src/dns/wire/parse.ts";
import type { OptRecord, ParsedQuery, ResponseParts } from "../src/dns/wire/types.ts";

function query(options: packet.PacketOpt[] = []): Uint8Array {
  const edns: packet.OptAnswer = {
    type: "OPT",
    name: ".",
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: packet.DNSSEC_OK,
    flag_do: true,
    options,
  };
  return new Uint8Array(
    packet.encode({ type: "query", id: 7, flags: packet.RECURSION_DESIRED, questions: [{ name: "Www.Example.com", type: "A" }], additionals: [edns] }),
  );
}

function parsed(buf: Uint8Array): ParsedQuery {
  const result = parseQuery(buf);
  if (result.status !== "ok") throw new Error(`benchmark query does not parse: ${result.status}`);
  return result.query;
}

let sink = 0;
function bench(name: string, op: () => { length: number } | { status: string }): void {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) sink += "length" in op() ? 1 : 2;
  };
  run(200_000);
  const iterations = 2_000_000;
  const start = Bun.nanoseconds();
  run(iterations);
  const ns = (Bun.nanoseconds() - start) / iterations;
  console.log(`${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/op`);
}

const plain = query();
const withEcs = query([{ code: 8, ip: "198.51.100.0", sourcePrefixLength: 24, scopePrefixLength: 0 }]);
const a = (last: number): RR => ({ name: "www.example.com", type: RRType.A, ttl: 30, rdata: { kind: "bytes", bytes: Uint8Array.from([192, 0, 2, last]) } });
const opt: OptRecord = { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, options: [] };
const parts: ResponseParts = {
  queryBytes: plain,
  query: parsed(plain),
  rcode: 0,
  authoritative: true,
  answer: [a(1), a(2)],
  authority: [],
  additional: [],
  opt,
};
const withSoa: ResponseParts = {
  ...parts,
  rcode: 3,
  answer: [],
  authority: [
    {
      name: "example.com",
      type: RRType.SOA,
      ttl: 300,
      rdata: { kind: "soa", mname: "ns1.example.com", rname: "hostmaster.example.com", serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
    },
  ],
};
const cached = encodeResponse({ ...parts, opt: undefined });
const ecsOpt: OptRecord = { ...opt, options: [encodeEcsOption(parsed(withEcs).edns!.clientSubnet!, 24)] };

bench("parseQuery (A, EDNS, DO)", () => parseQuery(plain));
bench("parseQuery (A, EDNS, DO, ECS)", () => parseQuery(withEcs));
bench("encodeResponse (2 A + OPT)", () => encodeResponse(parts));
bench("encodeResponse (NXDOMAIN, SOA + OPT)", () => encodeResponse(withSoa));
bench("patchCachedResponse", () => patchCachedResponse(cached, plain, parts.query));
bench("appendRecord(encodeOptRecord(ECS echo))", () => appendRecord(cached, encodeOptRecord(ecsOpt)));
bench("truncatedResponse", () => truncatedResponse(cached));
if (sink === 0) console.log("unreachable");
