// RFC 4034 §6.1 canonical DNS name order: names compare label by label from the right (the root end),
// each label as a string of bytes with upper-case ASCII letters folded to lower case; a label that is a
// prefix of another sorts first, and so does a name whose labels run out first (a parent before its children).
// NSEC chains are sorted in this order, and denial finds the covering NSEC with it.

import { labelBytes, labelsOf } from "../../lib/dns-name.ts";

/** Negative when a sorts before b, positive when after, 0 when they are the same name. */
export function compareCanonical(a: string, b: string): number {
  if (a === b) return 0;
  const left = labelsOf(a);
  const right = labelsOf(b);
  for (let i = left.length - 1, j = right.length - 1; i >= 0 && j >= 0; i--, j--) {
    const order = compareLabels(left[i]!, right[j]!);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

function compareLabels(a: string, b: string): number {
  if (a === b) return 0;
  // Without escapes each character is one byte, so the text compares as it stands.
  if (!a.includes("\\") && !b.includes("\\")) return compareBytes(a.length, b.length, (i) => a.charCodeAt(i), (i) => b.charCodeAt(i));
  const x = labelBytes(a);
  const y = labelBytes(b);
  return compareBytes(x.length, y.length, (i) => x[i]!, (i) => y[i]!);
}

function compareBytes(lengthA: number, lengthB: number, byteA: (i: number) => number, byteB: (i: number) => number): number {
  const shorter = Math.min(lengthA, lengthB);
  for (let i = 0; i < shorter; i++) {
    const order = foldCase(byteA(i)) - foldCase(byteB(i));
    if (order !== 0) return order;
  }
  return lengthA - lengthB;
}

function foldCase(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}
