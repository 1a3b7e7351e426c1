import { describe, expect, test } from "bun:test";
import { encodeEcsOption, readClientSubnet } from "../../../src/dns/wire/ecs.ts";

describe("readClientSubnet", () => {
  test("reads the option data between the given offsets", () => {
    const buf = Uint8Array.from([0xee, 0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xee]);
    expect(readClientSubnet(buf, 1, 11)).toEqual({
      family: 2,
      sourcePrefix: 48,
      scopePrefix: 0,
      address: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1]),
    });
  });

  test("accepts a full-length prefix, whose last byte has no spare bits", () => {
    expect(readClientSubnet(Uint8Array.from([0, 1, 32, 0, 192, 0, 2, 255]), 0, 8)?.sourcePrefix).toBe(32);
  });

  test("checks only the spare bits of the last address byte", () => {
    expect(readClientSubnet(Uint8Array.from([0, 1, 9, 0, 255, 0x80]), 0, 6)).not.toBeNull();
    expect(readClientSubnet(Uint8Array.from([0, 1, 9, 0, 255, 0x40]), 0, 6)).toBeNull();
  });
});

describe("encodeEcsOption", () => {
  test("echoes family, source prefix and address with our scope", () => {
    const subnet = { family: 1 as const, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([198, 51, 100]) };
    const echo = encodeEcsOption(subnet, 20);
    expect(echo.code).toBe(8);
    expect([...echo.data]).toEqual([0, 1, 24, 20, 198, 51, 100]);
  });

  test("reads back as the subnet it echoes when the scope is 0", () => {
    const subnet = { family: 2 as const, sourcePrefix: 56, scopePrefix: 0, address: Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0, 0x42]) };
    const { data } = encodeEcsOption(subnet, 0);
    expect(readClientSubnet(data, 0, data.length)).toEqual(subnet);
  });
});
