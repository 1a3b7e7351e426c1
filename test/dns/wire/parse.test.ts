import { describe, expect, test } from "bun:test";
import * as packet from "dns-packet";
import { presentLabel } from "../../../src/lib/dns-name.ts";
import { parseQuery, queryFromHeader } from "../../../src/dns/wire/parse.ts";
import {
  buildQuery,
  bytes,
  ecsOption,
  expectOk,
  expectStatus,
  header,
  option,
  optRecord,
  TYPE_A_CLASS_IN,
  wireName,
} from "./fixtures.ts";

describe("parseQuery: queries built by dns-packet", () => {
  test("reads every field of a plain query", () => {
    const query = expectOk(buildQuery({ name: "www.example.com", type: "A", id: 0xabcd }));
    expect(query).toEqual({
      id: 0xabcd,
      flags: packet.RECURSION_DESIRED,
      opcode: 0,
      recursionDesired: true,
      checkingDisabled: false,
      qname: "www.example.com",
      qtype: 1,
      qclass: 1,
      questionEnd: 12 + 17 + 4,
      edns: undefined,
    });
  });

  test("lower-cases a 0x20-randomised name but measures the question as sent", () => {
    const query = expectOk(buildQuery({ name: "WwW.ExAmPlE.CoM", type: "AAAA" }));
    expect(query.qname).toBe("www.example.com");
    expect(query.qtype).toBe(28);
    expect(query.questionEnd).toBe(33);
  });

  test("reads CD and a clear RD", () => {
    const query = expectOk(buildQuery({ flags: packet.CHECKING_DISABLED }));
    expect(query.recursionDesired).toBe(false);
    expect(query.checkingDisabled).toBe(true);
  });

  test("keeps digits, hyphens and underscores as they are", () => {
    expect(expectOk(buildQuery({ name: "_443._tcp.My-Host9.example", type: "SRV" })).qname).toBe(
      "_443._tcp.my-host9.example",
    );
  });

  test("reads EDNS: payload size, version and the DO bit", () => {
    const query = expectOk(buildQuery({ edns: { udpSize: 4096, dnssecOk: true } }));
    expect(query.edns).toEqual({ udpSize: 4096, version: 0, dnssecOk: true, clientSubnet: undefined });
  });

  test("treats a payload size under 512 as 512", () => {
    expect(expectOk(buildQuery({ edns: { udpSize: 100 } })).edns?.udpSize).toBe(512);
  });

  test("reads an IPv4 client subnet", () => {
    const query = expectOk(buildQuery({ edns: { options: [ecsOption("192.0.2.0", 24)] } }));
    expect(query.edns?.clientSubnet).toEqual({
      family: 1,
      sourcePrefix: 24,
      scopePrefix: 0,
      address: Uint8Array.from([192, 0, 2]),
    });
  });

  test("reads an IPv6 client subnet", () => {
    const query = expectOk(buildQuery({ edns: { options: [ecsOption("2001:db8:1:2200::", 56)] } }));
    expect(query.edns?.clientSubnet).toEqual({
      family: 2,
      sourcePrefix: 56,
      scopePrefix: 0,
      address: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x22]),
    });
  });

  test("reads a /0 client subnet, which has no address bytes", () => {
    const query = expectOk(buildQuery({ edns: { options: [ecsOption("0.0.0.0", 0)] } }));
    expect(query.edns?.clientSubnet?.address).toEqual(new Uint8Array(0));
  });

  test("ignores options it does not know", () => {
    const keepalive: packet.PacketOpt = { code: 11, timeout: 300 };
    const query = expectOk(buildQuery({ edns: { options: [keepalive, ecsOption("198.51.100.128", 25)] } }));
    expect(query.edns?.clientSubnet?.address).toEqual(Uint8Array.from([198, 51, 100, 128]));
  });

  test("copies the subnet address out of the packet, which the socket will reuse", () => {
    const buf = buildQuery({ edns: { options: [ecsOption("192.0.2.0", 24)] } });
    const query = expectOk(buf);
    buf.fill(0);
    expect(query.edns?.clientSubnet?.address).toEqual(Uint8Array.from([192, 0, 2]));
  });
});

describe("parseQuery: names", () => {
  test("escapes odd bytes exactly as presentLabel does", () => {
    const odd = [0x41, 0x2e, 0x20, 0x5c, 0xff];
    const buf = bytes(header({}), [odd.length, ...odd], wireName("Example"), TYPE_A_CLASS_IN);
    expect(expectOk(buf).qname).toBe(`${presentLabel(odd)}.example`);
    expect(expectOk(buf).qname).toBe("a\\.\\032\\\\\\255.example");
  });

  test("reads the root", () => {
    const query = expectOk(bytes(header({}), [0], [0, 2, 0, 1]));
    expect(query.qname).toBe("");
    expect(query.questionEnd).toBe(17);
  });

  test("accepts a name of exactly 255 bytes and refuses 256", () => {
    const labels = (last: number) => ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(last)].join(".");
    expect(expectOk(bytes(header({}), wireName(labels(61)), TYPE_A_CLASS_IN)).qname).toHaveLength(253);
    expectStatus(bytes(header({}), wireName(labels(62)), TYPE_A_CLASS_IN), "formerr");
  });

  test("refuses the reserved label types 0x40 and 0x80", () => {
    for (const kind of [0x40, 0x80]) expectStatus(bytes(header({}), [kind | 1, 0x61, 0], TYPE_A_CLASS_IN), "formerr");
  });

  test("refuses a compression pointer loop", () => {
    // "a" then a pointer back to the start of the same name.
    expectStatus(bytes(header({}), [1, 0x61, 0xc0, 12], TYPE_A_CLASS_IN), "formerr");
  });

  test("refuses a forward pointer and a pointer into the header", () => {
    expectStatus(bytes(header({}), [0xc0, 18], TYPE_A_CLASS_IN, [0]), "formerr");
    expectStatus(bytes(header({}), [0xc0, 4], TYPE_A_CLASS_IN), "formerr");
  });

  test("refuses a question cut short in the name or in the type and class", () => {
    const whole = bytes(header({}), wireName("www.example.com"), TYPE_A_CLASS_IN);
    for (let cut = 13; cut < whole.length; cut++) expectStatus(whole.subarray(0, cut), "formerr");
  });
});

describe("parseQuery: header rules", () => {
  test("drops anything shorter than a header", () => {
    expectStatus(new Uint8Array(0), "drop");
    expectStatus(new Uint8Array(11), "drop");
  });

  test("drops responses", () => {
    expectStatus(bytes(header({}, 0x8000), wireName("example.com"), TYPE_A_CLASS_IN), "drop");
  });

  test("answers other opcodes with NOTIMP, echoing the question when it parses", () => {
    const notify = bytes(header({}, 4 << 11, 0x0102), wireName("Example.com"), [0, 6, 0, 1]);
    const result = parseQuery(notify);
    expect(result).toMatchObject({ status: "notimp", id: 0x0102, flags: 4 << 11 });
    expect(result.status === "notimp" && result.query?.qname).toBe("example.com");
    expect(result.status === "notimp" && result.query?.opcode).toBe(4);
  });

  test("answers other opcodes with NOTIMP even when the rest is garbage", () => {
    const result = parseQuery(bytes(header({ qd: 3 }, 2 << 11), [0xff, 0xff]));
    expect(result).toEqual({ status: "notimp", id: 0xbeef, flags: 2 << 11, query: undefined });
  });

  test("refuses a QDCOUNT other than 1, echoing id and flags", () => {
    expect(parseQuery(bytes(header({ qd: 0 }, 0x0100)))).toEqual({ status: "formerr", id: 0xbeef, flags: 0x0100 });
    const two = bytes(header({ qd: 2 }), wireName("a"), TYPE_A_CLASS_IN, wireName("b"), TYPE_A_CLASS_IN);
    expectStatus(two, "formerr");
  });

  test("ignores bytes after the last record", () => {
    const query = expectOk(bytes(header({}), wireName("example.com"), TYPE_A_CLASS_IN, [1, 2, 3]));
    expect(query.questionEnd).toBe(29);
  });
});

describe("parseQuery: other sections", () => {
  const question = [...wireName("example.com"), ...TYPE_A_CLASS_IN];
  const answerRecord = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];

  test("skips answer and authority records", () => {
    const query = expectOk(bytes(header({ an: 1, ns: 1, ar: 1 }), question, answerRecord, answerRecord, optRecord()));
    expect(query.qname).toBe("example.com");
    expect(query.edns?.udpSize).toBe(1232);
  });

  test("refuses records whose framing runs past the end", () => {
    expectStatus(bytes(header({ an: 1 }), question, answerRecord.slice(0, -1)), "formerr");
    expectStatus(bytes(header({ an: 2 }), question, answerRecord), "formerr");
    expectStatus(bytes(header({ ns: 1 }), question, [0xc0]), "formerr");
    expectStatus(bytes(header({ ar: 1 }), question, answerRecord.slice(0, 8)), "formerr");
  });

  test("checks the framing of other additional records and ignores them", () => {
    const tsigLike = [...wireName("key.example"), 0, 250, 0, 255, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    expect(expectOk(bytes(header({ ar: 2 }), question, optRecord([], 4096), tsigLike)).edns?.udpSize).toBe(4096);
    expectStatus(bytes(header({ ar: 2 }), question, optRecord(), tsigLike.slice(0, -1)), "formerr");
  });

  test("refuses two OPT records, without EDNS in the echoed query", () => {
    const result = parseQuery(bytes(header({ ar: 2 }), question, optRecord(), optRecord()));
    expect(result.status).toBe("formerr");
    expect(result.status === "formerr" && result.query?.qname).toBe("example.com");
    expect(result.status === "formerr" && result.query?.edns).toBeUndefined();
  });

  test("refuses an OPT whose owner is not the root", () => {
    const owned = [...wireName("example.com"), ...optRecord().slice(1)];
    expectStatus(bytes(header({ ar: 1 }), question, owned), "formerr");
  });

  test("answers an EDNS version other than 0 with BADVERS, with the question and EDNS", () => {
    const result = parseQuery(buildQuery({ name: "Example.com", edns: { version: 1, dnssecOk: true } }));
    expect(result.status).toBe("badvers");
    if (result.status !== "badvers") return;
    expect(result.query?.qname).toBe("example.com");
    expect(result.query?.edns).toMatchObject({ version: 1, dnssecOk: true });
  });

  test("does not read the options of another EDNS version", () => {
    expectStatus(bytes(header({ ar: 1 }), question, optRecord(option(8, [9]), 1232, 1)), "badvers");
  });

  test("refuses option framing that runs past the OPT data", () => {
    const framing = [
      [0, 8],
      [0, 8, 0],
      [0, 10, 0, 5, 1, 2, 3, 4],
    ];
    for (const options of framing) expectStatus(bytes(header({ ar: 1 }), question, optRecord(options)), "formerr");
  });
});

describe("parseQuery: client subnet violations (RFC 7871 §7.1.1)", () => {
  const question = [...wireName("example.com"), ...TYPE_A_CLASS_IN];
  const withEcs = (...data: number[][]) =>
    bytes(header({ ar: 1 }), question, optRecord(data.flatMap((d) => option(8, d))));

  test("accepts a well-formed option built by hand", () => {
    expect(expectOk(withEcs([0, 1, 20, 0, 10, 1, 0x30])).edns?.clientSubnet?.sourcePrefix).toBe(20);
  });

  const violations: [string, number[]][] = [
    ["unknown family", [0, 3, 8, 0, 10]],
    ["IPv4 source prefix over 32", [0, 1, 33, 0, 10, 0, 0, 0, 0]],
    ["IPv6 source prefix over 128", [0, 2, 129, 0, ...new Array(17).fill(0)]],
    ["non-zero scope in a query", [0, 1, 24, 24, 192, 0, 2]],
    ["address longer than the prefix needs", [0, 1, 24, 0, 192, 0, 2, 0]],
    ["address shorter than the prefix needs", [0, 1, 24, 0, 192, 0]],
    ["address bits set past the prefix", [0, 1, 20, 0, 10, 1, 0x31]],
    ["an address byte with a /0 prefix", [0, 1, 0, 0, 1]],
    ["data shorter than family, source and scope", [0, 1, 0]],
  ];
  for (const [name, data] of violations) {
    test(`FORMERR for ${name}, still echoing question and EDNS`, () => {
      const result = parseQuery(withEcs(data));
      expect(result.status).toBe("formerr");
      if (result.status !== "formerr") return;
      expect(result.query?.qname).toBe("example.com");
      expect(result.query?.edns).toMatchObject({ version: 0, clientSubnet: undefined });
    });
  }

  test("FORMERR for two ECS options", () => {
    expectStatus(withEcs([0, 1, 8, 0, 10], [0, 1, 8, 0, 11]), "formerr");
  });

  test("FORMERR for bits past the prefix when dns-packet is handed an unmasked address", () => {
    expectStatus(buildQuery({ edns: { options: [ecsOption("10.1.3.4", 20)] } }), "formerr");
  });
});

describe("queryFromHeader", () => {
  test("makes a question-less query that keeps id and the echoed bits", () => {
    expect(queryFromHeader(7, 0x0110)).toMatchObject({
      id: 7,
      flags: 0x0110,
      opcode: 0,
      recursionDesired: true,
      checkingDisabled: true,
      questionEnd: 12,
    });
  });
});
