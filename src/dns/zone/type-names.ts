// Record type mnemonics ("A", "MX") and the RFC 3597 generic form ("TYPE65280") both ways.

import { RRType } from "../types.ts";

const BY_CODE = new Map<number, string>(Object.entries(RRType).map(([name, code]) => [code, name]));
const BY_NAME = new Map<string, number>(Object.entries(RRType));
const GENERIC = /^TYPE(\d{1,5})$/i;

export function typeName(type: number): string {
  return BY_CODE.get(type) ?? `TYPE${type}`;
}

/** The type code for a mnemonic or TYPEnnn (case-insensitive), or undefined when it is neither. */
export function typeFromName(text: string): number | undefined {
  const known = BY_NAME.get(text.toUpperCase());
  if (known !== undefined) return known;
  const generic = GENERIC.exec(text);
  if (!generic) return undefined;
  const code = Number(generic[1]);
  return code <= 0xffff ? code : undefined;
}
