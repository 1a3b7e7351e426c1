// The answer path, synchronous and small: cheap header checks (in the parser), the response cache,
// then on a miss lookup → policy → encode. Never throws out: any failure becomes SERVFAIL or a drop.

import { parseQuery, queryFromHeader } from "../wire/parse.ts";
import { appendRecord, encodeOptRecord, encodeResponse, truncatedResponse } from "../wire/encode.ts";
import { encodeEcsOption } from "../wire/ecs.ts";
import type { OptRecord, ParsedQuery, ParseResult } from "../wire/types.ts";
import { Rcode, RRClass, RRType, type LookupResult } from "../types.ts";
import { lookup } from "../zone/lookup.ts";
import { selectEndpoints, type ClientInfo, type SelectContext, type Selection } from "../policy/select.ts";
import type { HealthSnapshot } from "../../health/snapshot.ts";
import type { AnswerEngine } from "./engine.ts";
import { ResponseCache, type CachedBody } from "./response-cache.ts";
import { sectionsFor, serviceSetsOf } from "./sections.ts";
import { secureSections } from "./secure.ts";
import { SignatureCache } from "../dnssec/signature-cache.ts";
import { signingWindow } from "../dnssec/signing-window.ts";
import { ZoneSigning } from "../dnssec/zone-signing.ts";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { NO_ZONE, QueryCounters } from "./query-counters.ts";

export type Transport = "udp" | "tcp";

const TCP_MAX = 65535;
const PLAIN_UDP_MAX = 512;
const ZONE_TRANSFER = new Set([251, 252]); // IXFR, AXFR: not offered

export interface PipelineStats {
  queries: number;
  dropped: number;
  errors: number;
  truncated: number;
}

export interface HealthSource {
  snapshot(): HealthSnapshot;
  subscribe(listener: (s: HealthSnapshot) => void): () => void;
}

export interface PipelineOptions {
  random?: () => number;
  clock?: Clock;
  /** Most RRset signatures kept (dnssec); default 100,000. */
  signatureEntries?: number;
  /** Count responses by zone, type and rcode and time each one (for metrics). Default true. */
  countQueries?: boolean;
}

export class DnsPipeline {
  readonly cache: ResponseCache;
  readonly signatures: SignatureCache;
  private signing: ZoneSigning | undefined;
  private readonly clock: Clock;
  readonly stats: PipelineStats = { queries: 0, dropped: 0, errors: 0, truncated: 0 };
  /** Undefined when counting is off (benchmarks comparing the cost). */
  readonly counters: QueryCounters | undefined;
  /** The counters' slot of the zone the current query fell in; set by `answer`. */
  private zone = NO_ZONE;
  private snapshot: HealthSnapshot;
  private readonly selectContext: SelectContext;
  private readonly unsubscribe: () => void;

  constructor(
    private engine: AnswerEngine,
    health: HealthSource,
    options: PipelineOptions = {},
  ) {
    this.cache = new ResponseCache(engine.cacheEntries);
    this.signatures = new SignatureCache(options.signatureEntries ?? 100_000);
    this.clock = options.clock ?? systemClock;
    this.counters = options.countQueries === false ? undefined : new QueryCounters();
    this.snapshot = health.snapshot();
    this.selectContext = { geo: engine.geo, random: options.random ?? Math.random };
    this.unsubscribe = health.subscribe((snapshot) => {
      this.snapshot = snapshot;
      this.cache.clear();
    });
  }

  /** A reload built a new engine: answer from it from the next query on. */
  setEngine(engine: AnswerEngine): void {
    this.engine = engine;
    this.selectContext.geo = engine.geo;
    // New zones may come with new keys: no earlier signature can be trusted to match them.
    this.signing = undefined;
    this.signatures.clear();
    this.cache.clear(engine.cacheEntries);
  }

  get currentEngine(): AnswerEngine {
    return this.engine;
  }

  close(): void {
    this.unsubscribe();
  }

  /** Answers one query; null means send nothing. */
  handle(bytes: Uint8Array, remote: string, transport: Transport): Uint8Array | null {
    this.stats.queries++;
    const counters = this.counters;
    // Latency is from these bytes in hand to the response bytes ready: a clock read at each end.
    const started = counters ? Bun.nanoseconds() : 0;
    let parsed: ParseResult | undefined;
    this.zone = NO_ZONE;
    try {
      parsed = parseQuery(bytes);
      if (parsed.status === "drop") {
        this.stats.dropped++;
        return null;
      }
      if (parsed.status === "ok") {
        const response = this.answer(bytes, parsed.query, remote, transport);
        // Answers carry their rcode in the header alone (extended rcodes only come from `refuse`).
        counters?.count(this.zone, parsed.query.qtype, response[3]! & 0x0f, transport, Bun.nanoseconds() - started);
        return response;
      }
      const response = this.refuse(bytes, parsed);
      counters?.count(NO_ZONE, parsed.query?.qtype ?? -1, refusalRcode(parsed.status), transport, Bun.nanoseconds() - started);
      return response;
    } catch {
      // A bug must cost one answer, not the listener: reply SERVFAIL when the header is readable.
      this.stats.errors++;
      if (bytes.length < 12) return null;
      const response = this.servfail(bytes);
      const qtype = parsed?.status === "ok" ? parsed.query.qtype : -1;
      counters?.count(NO_ZONE, qtype, Rcode.SERVFAIL, transport, Bun.nanoseconds() - started);
      return response;
    }
  }

  /** The answer a query would get now, neither counted as traffic nor timed (the API's resolve). */
  preview(bytes: Uint8Array, remote: string): Uint8Array | null {
    const parsed = parseQuery(bytes);
    return parsed.status === "ok" ? this.answer(bytes, parsed.query, remote, "tcp") : null;
  }

  private answer(bytes: Uint8Array, query: ParsedQuery, remote: string, transport: Transport): Uint8Array {
    if (query.qclass !== RRClass.IN || ZONE_TRANSFER.has(query.qtype)) {
      return this.finish(bytes, query, this.encode(bytes, query, { kind: "refused" }, []), 0, transport);
    }
    const dnssecOk = query.edns?.dnssecOk ?? false;
    if (dnssecOk && this.engine.dnssec) this.renewSigningIfDue();
    const key = ResponseCache.key(query.qname, query.qtype, dnssecOk);
    let entry = this.cache.get(key);
    if (!entry) {
      const result = lookup(this.engine.zones, query.qname, query.qtype);
      const zone = result.kind === "refused" || !this.counters ? NO_ZONE : this.counters.zoneSlot(result.zone);
      entry = serviceSetsOf(result).length === 0
        ? { kind: "static", answer: { body: this.encode(bytes, query, result, []), scope: 0 }, zone }
        : { kind: "dynamic", result, variants: new Map(), zone };
      this.cache.set(key, entry);
    }
    this.zone = entry.zone;
    if (entry.kind === "static") return this.finish(bytes, query, entry.answer.body, entry.answer.scope, transport);
    const client: ClientInfo = { remote, clientSubnet: query.edns?.clientSubnet };
    const chosen = this.choose(entry.result, client);
    let cached = entry.variants.get(chosen.variant);
    if (!cached) {
      cached = { body: this.encode(bytes, query, entry.result, chosen.selections), scope: chosen.scope };
      entry.variants.set(chosen.variant, cached);
    }
    return this.finish(bytes, query, cached.body, chosen.scope, transport);
  }

  /** Runs the policy for every service set of the result; the variant names the combined choice. */
  private choose(result: LookupResult, client: ClientInfo): { selections: Selection[]; variant: string; scope: number } {
    const selections = serviceSetsOf(result).map((set) => {
      const plan = this.engine.plans.get(set.service);
      if (!plan) return { endpoints: [], variant: "unplanned", scope: 0, reason: "service not configured" };
      return selectEndpoints(plan, set.type === RRType.A ? 4 : 6, this.snapshot, client, this.selectContext);
    });
    let variant = "";
    let scope = 0;
    for (const s of selections) {
      variant += s.variant + ";";
      if (s.scope > scope) scope = s.scope;
    }
    return { selections, variant, scope };
  }

  /** Encodes a response body without OPT; `finish` adds the per-client parts. */
  private encode(bytes: Uint8Array, query: ParsedQuery, result: LookupResult, selections: Selection[]): Uint8Array {
    let sections = sectionsFor(result, selections, (name) => this.engine.zones.findZone(name)!.soa);
    if (query.edns?.dnssecOk && this.signing) sections = secureSections(sections, result, query.qname, this.signing);
    return encodeResponse({ queryBytes: bytes, query, ...sections });
  }

  /**
   * Signatures share a window (see signing-window.ts); once it is due for renewal every stored signed
   * answer is stale: start a new window and forget them.
   */
  private renewSigningIfDue(): void {
    const dnssec = this.engine.dnssec!;
    const now = this.clock.now();
    if (this.signing && now < this.signing.window.renewAt) return;
    this.signing = new ZoneSigning(this.engine.zones, dnssec.keysFor, signingWindow(now, dnssec.window), this.signatures, dnssec.denial);
    this.cache.clear();
  }

  /**
   * Makes a stored body this client's answer: its ID, its RD/CD bits and its letter case, then its
   * OPT (with an ECS echo when it sent one), then truncation to what it can receive.
   */
  private finish(bytes: Uint8Array, query: ParsedQuery, body: Uint8Array, scope: number, transport: Transport): Uint8Array {
    const opt = query.edns ? this.responseOpt(query, scope) : undefined;
    let out = opt ? appendRecord(body, opt) : body.slice();
    out[0] = bytes[0]!;
    out[1] = bytes[1]!;
    out[2] = (out[2]! & 0xfe) | (bytes[2]! & 0x01);
    out[3] = (out[3]! & 0xef) | (bytes[3]! & 0x10);
    out.set(bytes.subarray(12, query.questionEnd), 12);
    if (out.length > this.limitFor(query, transport)) {
      // RFC 2181 §9: header, question and OPT with TC set, so the client retries over TCP.
      this.stats.truncated++;
      out = truncatedResponse(out);
    }
    return out;
  }

  private limitFor(query: ParsedQuery, transport: Transport): number {
    if (transport === "tcp") return TCP_MAX;
    if (!query.edns) return PLAIN_UDP_MAX;
    return Math.min(Math.max(query.edns.udpSize, PLAIN_UDP_MAX), this.engine.maxUdpSize);
  }

  private responseOpt(query: ParsedQuery, scope: number): Uint8Array {
    const subnet = query.edns!.clientSubnet;
    const options = subnet ? [encodeEcsOption(subnet, scope)] : [];
    return encodeOptRecord(this.optFor(query, 0, options));
  }

  private optFor(query: ParsedQuery, extendedRcode: number, options: OptRecord["options"]): OptRecord {
    return { udpSize: this.engine.maxUdpSize, extendedRcode, version: 0, dnssecOk: query.edns?.dnssecOk ?? false, options };
  }

  /** FORMERR, NOTIMP and BADVERS answers echo what could be parsed of the question. */
  private refuse(bytes: Uint8Array, parsed: Exclude<ParseResult, { status: "ok" } | { status: "drop" }>): Uint8Array {
    const query = parsed.query ?? queryFromHeader(parsed.id, parsed.flags);
    const rcode = refusalRcode(parsed.status);
    const opt = parsed.status === "badvers" || query.edns ? this.optFor(query, rcode >> 4, []) : undefined;
    return encodeResponse({
      queryBytes: bytes,
      query,
      rcode: rcode & 0x0f,
      authoritative: false,
      answer: [],
      authority: [],
      additional: [],
      opt,
    });
  }

  private servfail(bytes: Uint8Array): Uint8Array {
    const id = (bytes[0]! << 8) | bytes[1]!;
    const flags = (bytes[2]! << 8) | bytes[3]!;
    return encodeResponse({
      queryBytes: bytes,
      query: queryFromHeader(id, flags),
      rcode: Rcode.SERVFAIL,
      authoritative: false,
      answer: [],
      authority: [],
      additional: [],
    });
  }
}

function refusalRcode(status: "formerr" | "notimp" | "badvers"): number {
  return status === "formerr" ? Rcode.FORMERR : status === "notimp" ? Rcode.NOTIMP : Rcode.BADVERS;
}
