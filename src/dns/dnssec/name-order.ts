// RFC 4034 §6.1 canonical DNS name order: names compare label by label from the right (the root end),
// each label as a string of bytes with upper-case ASCII letters folded to lower case; a label that is a
// prefix of another sorts first, and so does a name whose labels run out first (a parent before its children).
// NSEC chains are sorted in this order, and denial finds the covering NSEC with it.

import { labelBytes, labelsOf } from "../../lib/dns-name.ts";

/** Negative when a sorts before b, positive when after, 0 when they are the same name. */
export function compareCanonical(a: string, b: string): number {
  if (a === b) return 0;
  const x = canonicalKey(a);
  const y = canonicalKey(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * A string whose plain order is the canonical order: labels from the right, each byte (case folded)
 * shifted up by one, labels joined by "\0". The shift keeps every byte above the separator, so a
 * label that is a prefix of another, or a name that runs out of labels, sorts first. Computed once
 * per name, it turns each comparison of a search into a string compare.
 */
export function canonicalKey(name: string): string {
  const labels = labelsOf(name);
  let key = "";
  for (let i = labels.length - 1; i >= 0; i--) {
    const label = labels[i]!;
    const bytes = label.includes("\\") ? labelBytes(label) : undefined;
    const length = bytes ? bytes.length : label.length;
    for (let j = 0; j < length; j++) key += String.fromCharCode(foldCase(bytes ? bytes[j]! : label.charCodeAt(j)) + 1);
    if (i > 0) key += "\0";
  }
  return key;
}

function foldCase(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}
