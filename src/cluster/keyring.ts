// The gossip keys: one primary that encrypts, every installed key tried when decrypting. Rotation
// without downtime is three steps run on every node in turn: install the new key, use it, remove the
// old one. Between the steps each node still reads what the others write.

const KEY_BYTES = 32;

export class Keyring {
  private primary: Uint8Array;
  private readonly installed: Uint8Array[];

  constructor(primary: Uint8Array, others: readonly Uint8Array[] = []) {
    checkKey(primary);
    others.forEach(checkKey);
    this.primary = primary;
    this.installed = [primary];
    for (const key of others) if (!this.has(key)) this.installed.push(key);
  }

  /** Builds a keyring from config: base64 keys as `gossip.encryption_key` and `gossip.keyring` hold them. */
  static fromBase64(primary: string, others: readonly string[] = []): Keyring {
    return new Keyring(decodeKey(primary), others.map(decodeKey));
  }

  /** The key that encrypts. */
  get primaryKey(): Uint8Array {
    return this.primary;
  }

  /** Every installed key, primary first: the order decryption tries them in. */
  get keys(): readonly Uint8Array[] {
    return [this.primary, ...this.installed.filter((k) => k !== this.primary)];
  }

  /** Adds a key that is accepted for decryption; installing one already there does nothing. */
  install(key: Uint8Array): void {
    checkKey(key);
    if (!this.has(key)) this.installed.push(key);
  }

  /** Makes an installed key the primary. */
  use(key: Uint8Array): void {
    const found = this.find(key);
    if (!found) throw new Error("gossip key: cannot use a key that is not installed; install it first");
    this.primary = found;
  }

  /** Drops a key. The primary cannot go: use another key first, or this node could not speak at all. */
  remove(key: Uint8Array): void {
    const found = this.find(key);
    if (!found) return;
    if (found === this.primary) throw new Error("gossip key: cannot remove the primary key; use another key first");
    this.installed.splice(this.installed.indexOf(found), 1);
  }

  private has(key: Uint8Array): boolean {
    return this.find(key) !== undefined;
  }

  private find(key: Uint8Array): Uint8Array | undefined {
    return this.installed.find((k) => sameBytes(k, key));
  }
}

export function decodeKey(base64: string): Uint8Array {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("gossip key: expected base64 (make one with: openssl rand -base64 32)");
  }
  const key = new Uint8Array(Buffer.from(text, "base64"));
  checkKey(key);
  return key;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new Error(`gossip key: expected ${KEY_BYTES} bytes (AES-256), got ${key.length}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
