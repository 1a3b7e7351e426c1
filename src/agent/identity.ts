// An agent's identity: a random UUID and an Ed25519 key pair, made on the agent's first start and
// kept in data_dir/agent-identity.json (mode 0600). The overwatches pin the public key the first time
// they hear the UUID (trust on first use), so losing or replacing this file means an operator must
// allow a re-key on every overwatch: a file that does not read back is a start-up error, never
// quietly replaced.
//
// The keys are node:crypto KeyObjects (OpenSSL/BoringSSL), not @noble/curves: verifying is about
// 60 µs natively against about 800 µs in pure JavaScript, and every overwatch verifies every claim
// of every agent (cluster/claims.ts uses the same). @noble/curves stays with DNSSEC, where
// signatures are cached. The file holds the raw 32-byte seed and public key (RFC 8032), so it is not
// tied to either library.

import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { StartupError, errorMessage } from "../lib/errors.ts";
import { ensureDataDir } from "../store/data-dir.ts";

export const IDENTITY_FILE_NAME = "agent-identity.json";

const FORMAT = "vigil-agent-identity";
const FORMAT_VERSION = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AgentIdentity {
  /** A random UUID, lower case: how overwatches know this agent. */
  readonly agentId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** When the identity was made (ms since epoch). */
  readonly createdAt: number;
  /** An Ed25519 signature (64 bytes) of data. Satisfies cluster/claims.ts's ClaimSigner. */
  sign(data: Uint8Array): Uint8Array;
}

export interface LoadedIdentity {
  identity: AgentIdentity;
  /** True when this call made the identity (first start), false when it read it back. */
  created: boolean;
  /** The file it lives in. */
  file: string;
}

/**
 * Reads the identity from dataDir, or makes one and writes it there (atomically) when the file does
 * not exist. Creates dataDir (0700) when missing. Throws StartupError naming the file when it cannot
 * be read, does not parse, or its keys do not belong together.
 */
export function loadOrCreateIdentity(dataDir: string, now: number = Date.now()): LoadedIdentity {
  ensureDataDir(dataDir);
  const file = join(dataDir, IDENTITY_FILE_NAME);
  if (existsSync(file)) return { identity: readIdentity(file), created: false, file };
  const identity = newIdentity(now);
  writeIdentity(file, identity);
  return { identity: identity.value, created: true, file };
}

interface IdentityFile {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  agent_id: string;
  /** base64 of the raw 32-byte public key. */
  public_key: string;
  /** base64 of the raw 32-byte private key (the RFC 8032 seed). */
  private_key: string;
  /** ISO 8601. */
  created_at: string;
}

interface MadeIdentity {
  value: AgentIdentity;
  privateKey: Uint8Array;
}

function newIdentity(now: number): MadeIdentity {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = fromBase64Url(jwk.d!);
  return { value: identityOf(randomUUID(), seed, fromBase64Url(jwk.x!), now), privateKey: seed };
}

function identityOf(agentId: string, seed: Uint8Array, publicKey: Uint8Array, createdAt: number): AgentIdentity {
  const key = privateKeyOf(seed, publicKey);
  return {
    agentId,
    publicKey: new Uint8Array(publicKey),
    createdAt,
    sign: (data) => new Uint8Array(sign(null, data, key)),
  };
}

function privateKeyOf(seed: Uint8Array, publicKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(publicKey) }, format: "jwk" });
}

function readIdentity(file: string): AgentIdentity {
  const corrupt = (why: string) =>
    new StartupError(
      `agent identity ${file} is unusable: ${why}. It was left as it is: restore it from a backup, or move it aside ` +
        "to make a new identity (the overwatches then refuse the new key until an operator allows a re-key of this agent)",
    );
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new StartupError(`cannot read agent identity ${file}: ${errorMessage(err).replace(/, \w+ '.*'$/, "")}`);
  }
  let parsed: Partial<IdentityFile>;
  try {
    parsed = JSON.parse(text) as Partial<IdentityFile>;
  } catch {
    throw corrupt("not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || parsed.format !== FORMAT) throw corrupt(`not a ${FORMAT} file`);
  if (parsed.version !== FORMAT_VERSION) throw corrupt(`unknown version ${JSON.stringify(parsed.version)}`);
  if (typeof parsed.agent_id !== "string" || !UUID.test(parsed.agent_id)) throw corrupt("agent_id is not a lower-case UUID");
  const publicKey = rawKey(parsed.public_key);
  const seed = rawKey(parsed.private_key);
  if (!publicKey) throw corrupt("public_key is not 32 bytes of base64");
  if (!seed) throw corrupt("private_key is not 32 bytes of base64");
  const createdAt = typeof parsed.created_at === "string" ? Date.parse(parsed.created_at) : Number.NaN;
  if (Number.isNaN(createdAt)) throw corrupt("created_at is not a time");
  // The public key must be the one the private key makes, or every claim would fail to verify.
  let derived: Uint8Array;
  try {
    // Given d and x, OpenSSL derives the public half from d alone; compare it with x ourselves.
    derived = fromBase64Url(createPublicKey(privateKeyOf(seed, publicKey)).export({ format: "jwk" }).x!);
  } catch {
    throw corrupt("private_key is not an Ed25519 key");
  }
  if (!sameBytes(derived, publicKey)) throw corrupt("public_key does not belong to private_key");
  restrictMode(file);
  return identityOf(parsed.agent_id, seed, publicKey, createdAt);
}

/** Temp file (0600, written and synced) then rename, so a crash leaves either no file or a whole one. */
function writeIdentity(file: string, made: MadeIdentity): void {
  const { value } = made;
  const body: IdentityFile = {
    format: FORMAT,
    version: FORMAT_VERSION,
    agent_id: value.agentId,
    public_key: Buffer.from(value.publicKey).toString("base64"),
    private_key: Buffer.from(made.privateKey).toString("base64"),
    created_at: new Date(value.createdAt).toISOString(),
  };
  const temp = `${file}.${process.pid}.tmp`;
  try {
    if (existsSync(temp)) unlinkSync(temp);
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o600); // the umask cannot add bits, but be explicit
    renameSync(temp, file);
    syncDir(file);
  } catch (err) {
    try {
      if (existsSync(temp)) unlinkSync(temp);
    } catch {
      // Nothing more to do: the error below is what the operator needs.
    }
    throw new StartupError(`cannot write agent identity ${file}: ${errorMessage(err).replace(/, \w+ '.*'$/, "")}`);
  }
}

/** Makes the rename itself durable; not every platform lets a directory be opened, so best effort. */
function syncDir(file: string): void {
  try {
    const fd = openSync(join(file, ".."), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** An identity file readable by others (copied in by hand, say) is narrowed to its owner. */
function restrictMode(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch {
    // Not ours to change (read-only mount): it still works.
  }
}

function rawKey(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]{43}=$/.test(value)) return undefined;
  const bytes = new Uint8Array(Buffer.from(value, "base64"));
  return bytes.length === 32 ? bytes : undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const toBase64Url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const fromBase64Url = (text: string) => new Uint8Array(Buffer.from(text, "base64url"));
