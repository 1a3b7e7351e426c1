// Writing names into a message with compression (RFC 1035 §4.1.4).

import { labelBytes, labelsOf, NameError } from "../../lib/dns-name.ts";

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
/** Pointers have 14 bits of offset. */
const MAX_POINTER_TARGET = 0x3fff;
const POINTER = 0xc000;

/**
 * One name suffix (a canonical name, so matching ignores case as RFC 1035 §2.3.3 asks) and where it was
 * written in the message being encoded. The position is valid only while `message` equals the encoding
 * compressor's current message number: starting a message is one increment, not a table to clear.
 */
interface Suffix {
  message: number;
  offset: number;
  /** The suffix one label shorter; null below the root. */
  parent: Suffix | null;
}

/** A name's uncompressed wire form and, per label, the suffix that starts there. */
interface WireName {
  wire: Uint8Array;
  /** suffixes[i] is made of labels i.. and begins at starts[i] in `wire`. */
  suffixes: Suffix[];
  starts: number[];
}

// Wildcard owners echo the qname, so the caches meet whatever clients send and must stay bounded
// (seeding a qname never adds it: see NameCompressor.seed). Clearing is safe at any time: a name met
// again gets new Suffix objects, so at worst a pointer is missed.
const MAX_CACHED_NAMES = 10_000;
const MAX_CACHED_SUFFIXES = 4 * MAX_CACHED_NAMES;
const wireNames = new Map<string, WireName>();
const suffixes = new Map<string, Suffix>();
/** Where a name's bytes are assembled before being copied out at their exact length. */
const assembly = new Uint8Array(MAX_NAME_WIRE + 1);

function suffixOf(name: string, parent: Suffix | null): Suffix {
  let suffix = suffixes.get(name);
  if (suffix === undefined) {
    suffix = { message: 0, offset: 0, parent };
    suffixes.set(name, suffix);
  }
  return suffix;
}

/**
 * The wire form of a canonical name, from the cache. Throws NameError for a name that cannot be written
 * (an empty or over-long label, over 255 bytes, a bad escape) rather than emit a corrupt message.
 */
function wireNameOf(name: string): WireName {
  const cached = wireNames.get(name);
  if (cached !== undefined) return cached;
  if (wireNames.size >= MAX_CACHED_NAMES || suffixes.size >= MAX_CACHED_SUFFIXES) {
    wireNames.clear();
    suffixes.clear();
  }
  const labels = labelsOf(name);
  const entry: WireName = { wire: new Uint8Array(0), suffixes: [], starts: [] };
  let length = 0;
  let textAt = 0;
  const texts: string[] = [];
  for (const label of labels) {
    const data = labelBytes(label);
    if (data.length === 0 || data.length > MAX_LABEL || length + data.length + 2 > MAX_NAME_WIRE) {
      throw new NameError(`cannot encode "${name}": empty or over-long label, or over ${MAX_NAME_WIRE} bytes`);
    }
    texts.push(textAt === 0 ? name : name.slice(textAt));
    entry.starts.push(length);
    assembly[length++] = data.length;
    for (let i = 0; i < data.length; i++) assembly[length++] = data[i]!;
    textAt += label.length + 1;
  }
  assembly[length++] = 0;
  // Shortest first, so each suffix can link to its parent.
  let parent: Suffix | null = null;
  for (let i = texts.length - 1; i >= 0; i--) parent = entry.suffixes[i] = suffixOf(texts[i]!, parent);
  entry.wire = assembly.slice(0, length);
  wireNames.set(name, entry);
  return entry;
}

/** Message numbers are shared by all compressors so that two never mistake each other's positions. */
let lastMessage = 0;

/** Remembers where each name suffix was written in one message, so later names can point back to it. */
export class NameCompressor {
  private message = ++lastMessage;
  /** The seeded question name and where it sits; null when there is none, or it is the root. */
  private question: string | null = null;
  private questionOffset = 0;

  /** Forgets the previous message. */
  reset(): void {
    this.message = ++lastMessage;
    this.question = null;
  }

  /**
   * Records that `name` is already present, uncompressed, at `offset` (the question name). A qname may
   * be one of a flood of random names (NXDOMAIN attacks), so seeding does not cache it: an unknown one
   * is matched whole by string and only its suffixes we already know (zone names) are remembered.
   */
  seed(name: string, offset: number): void {
    if (offset > MAX_POINTER_TARGET) return;
    this.question = name === "" ? null : name;
    this.questionOffset = offset;
    const cached = wireNames.get(name);
    if (cached !== undefined) {
      for (let i = 0; i < cached.suffixes.length; i++) this.remember(cached.suffixes[i]!, offset + cached.starts[i]!);
      return;
    }
    // Escapes make text and wire offsets differ; such names are rare enough to leave uncompressed.
    if (name.includes("\\")) return;
    // Otherwise a label's text starts as far into the name as its length byte does on the wire.
    // Find the longest known suffix, then walk up its parents.
    let from = 0;
    let known = suffixes.get(name);
    while (known === undefined) {
      const dot = name.indexOf(".", from);
      if (dot < 0) return;
      from = dot + 1;
      known = suffixes.get(name.slice(from));
    }
    for (let suffix: Suffix | null = known; suffix !== null; suffix = suffix.parent) {
      this.remember(suffix, offset + from);
      from = name.indexOf(".", from) + 1;
    }
  }

  /**
   * Writes `name` at buf[pos], ending in a pointer to the longest suffix written before, and returns
   * the offset after it.
   */
  writeCompressed(buf: Uint8Array, pos: number, name: string): number {
    // Caches the name even when it is the question: a qname that owns records is worth a quick seed.
    const { wire, suffixes, starts } = wireNameOf(name);
    if (name === this.question) return writePointer(buf, pos, this.questionOffset);
    for (let i = 0; i < suffixes.length; i++) {
      const suffix = suffixes[i]!;
      if (suffix.message !== this.message) continue;
      const end = copy(wire, starts[i]!, buf, pos);
      for (let j = 0; j < i; j++) this.remember(suffixes[j]!, pos + starts[j]!);
      return writePointer(buf, end, suffix.offset);
    }
    for (let j = 0; j < suffixes.length; j++) this.remember(suffixes[j]!, pos + starts[j]!);
    return copy(wire, wire.length, buf, pos);
  }

  private remember(suffix: Suffix, offset: number): void {
    if (offset > MAX_POINTER_TARGET || suffix.message === this.message) return;
    suffix.message = this.message;
    suffix.offset = offset;
  }
}

/**
 * Writes `name` at buf[pos] in full (SRV targets, RFC 2782; names a later pointer must not lean on) and
 * returns the offset after it.
 */
export function writeUncompressed(buf: Uint8Array, pos: number, name: string): number {
  const { wire } = wireNameOf(name);
  return copy(wire, wire.length, buf, pos);
}

function writePointer(buf: Uint8Array, pos: number, target: number): number {
  buf[pos] = (POINTER | target) >>> 8;
  buf[pos + 1] = target;
  return pos + 2;
}

/** Copies wire[0..count) to buf[pos..] (a loop: names are short, and subarray would allocate). */
function copy(wire: Uint8Array, count: number, buf: Uint8Array, pos: number): number {
  for (let i = 0; i < count; i++) buf[pos + i] = wire[i]!;
  return pos + count;
}
