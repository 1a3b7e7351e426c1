import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { verify, createPublicKey } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDENTITY_FILE_NAME, loadOrCreateIdentity } from "../../src/agent/identity.ts";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vigil-identity-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const verifies = (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) =>
  verify(null, data, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" }), signature);

describe("agent identity", () => {
  test("is made on first start: a UUID and an Ed25519 key pair in data_dir/agent-identity.json, mode 0600", () => {
    const dataDir = join(tmp, "var", "vigil");
    const { identity, created, file } = loadOrCreateIdentity(dataDir, Date.UTC(2025, 0, 2));
    expect(created).toBe(true);
    expect(file).toBe(join(dataDir, IDENTITY_FILE_NAME));
    expect(identity.agentId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(identity.publicKey.length).toBe(32);
    expect(identity.createdAt).toBe(Date.UTC(2025, 0, 2));
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual([IDENTITY_FILE_NAME]); // no temp file left behind
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored).toMatchObject({ format: "vigil-agent-identity", version: 1, agent_id: identity.agentId, created_at: "2025-01-02T00:00:00.000Z" });
    expect(Buffer.from(stored.public_key, "base64")).toEqual(Buffer.from(identity.publicKey));
  });

  test("signs with its key: 64-byte Ed25519 signatures that verify under its public key", () => {
    const { identity } = loadOrCreateIdentity(tmp);
    const data = new TextEncoder().encode("heartbeat");
    const signature = identity.sign(data);
    expect(signature.length).toBe(64);
    expect(verifies(identity.publicKey, data, signature)).toBe(true);
    expect(verifies(identity.publicKey, new TextEncoder().encode("heartbeaT"), signature)).toBe(false);
  });

  test("loading it again gives the same identity, and the file is not rewritten", () => {
    const first = loadOrCreateIdentity(tmp).identity;
    const before = readFileSync(join(tmp, IDENTITY_FILE_NAME), "utf8");
    const again = loadOrCreateIdentity(tmp);
    expect(again.created).toBe(false);
    expect(again.identity.agentId).toBe(first.agentId);
    expect(again.identity.publicKey).toEqual(first.publicKey);
    expect(again.identity.createdAt).toBe(first.createdAt);
    const data = Uint8Array.of(1, 2, 3);
    expect(verifies(first.publicKey, data, again.identity.sign(data))).toBe(true);
    expect(readFileSync(join(tmp, IDENTITY_FILE_NAME), "utf8")).toBe(before);
  });

  test("two data dirs get two different identities", () => {
    const a = loadOrCreateIdentity(join(tmp, "a")).identity;
    const b = loadOrCreateIdentity(join(tmp, "b")).identity;
    expect(a.agentId).not.toBe(b.agentId);
    expect(a.publicKey).not.toEqual(b.publicKey);
  });

  test("narrows a file readable by others to its owner", () => {
    const { file } = loadOrCreateIdentity(tmp);
    chmodSync(file, 0o644);
    loadOrCreateIdentity(tmp);
    expect(mode(file)).toBe(0o600);
  });

  const corruptions: [string, (stored: Record<string, unknown>) => string, RegExp][] = [
    ["empty file", () => "", /not JSON/],
    ["truncated JSON", (s) => JSON.stringify(s).slice(0, 40), /not JSON/],
    ["another JSON document", () => '{"hello": "world"}', /not a vigil-agent-identity file/],
    ["a newer version", (s) => JSON.stringify({ ...s, version: 2 }), /unknown version 2/],
    ["an agent id that is not a UUID", (s) => JSON.stringify({ ...s, agent_id: "agent-1" }), /agent_id is not a lower-case UUID/],
    ["a short public key", (s) => JSON.stringify({ ...s, public_key: "AAAA" }), /public_key is not 32 bytes of base64/],
    ["a private key that is not base64", (s) => JSON.stringify({ ...s, private_key: "!".repeat(43) + "=" }), /private_key is not 32 bytes of base64/],
    ["keys that do not belong together", (s) => JSON.stringify({ ...s, public_key: Buffer.alloc(32, 7).toString("base64") }), /public_key does not belong to private_key/],
    ["a bad created_at", (s) => JSON.stringify({ ...s, created_at: "yesterday" }), /created_at is not a time/],
  ];

  test.each(corruptions)("a file with %s is a StartupError naming the file, and is left as it was", (_name, corrupt, why) => {
    const { file } = loadOrCreateIdentity(tmp);
    const text = corrupt(JSON.parse(readFileSync(file, "utf8")));
    writeFileSync(file, text);
    let error: unknown;
    try {
      loadOrCreateIdentity(tmp);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("StartupError");
    expect((error as Error).message).toStartWith(`agent identity ${file} is unusable: `);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toContain("re-key");
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(readdirSync(tmp)).toEqual([IDENTITY_FILE_NAME]);
  });

  test("a data_dir it cannot write in is a StartupError, and leaves no file behind", () => {
    if (process.getuid?.() === 0) return; // root writes anywhere
    chmodSync(tmp, 0o500);
    try {
      expect(() => loadOrCreateIdentity(tmp)).toThrow(/data_dir .* is not usable|cannot write agent identity/);
    } finally {
      chmodSync(tmp, 0o700);
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("a failed write is a StartupError naming the file, and no identity file appears", () => {
    const file = join(tmp, IDENTITY_FILE_NAME);
    mkdirSync(`${file}.${process.pid}.tmp`); // the temp file's name, taken by a directory
    expect(() => loadOrCreateIdentity(tmp)).toThrow(`cannot write agent identity ${file}: `);
    expect(existsSync(file)).toBe(false);
  });

  test("a data_dir that cannot be used is a StartupError", () => {
    writeFileSync(join(tmp, "file"), "x");
    expect(() => loadOrCreateIdentity(join(tmp, "file", "data"))).toThrow(/data_dir .* is not usable/);
  });

  test("an identity path that cannot be read is a StartupError naming it", () => {
    const file = join(tmp, IDENTITY_FILE_NAME);
    // A directory where the file should be: exists, but cannot be read as a file.
    mkdirSync(file);
    expect(() => loadOrCreateIdentity(tmp)).toThrow(`cannot read agent identity ${file}: EISDIR`);
    expect(existsSync(file)).toBe(true);
  });
});
