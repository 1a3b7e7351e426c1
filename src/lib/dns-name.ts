// Domain names in presentation form: lower case, no trailing dot, root = "", RFC 1035 escapes
// (\. for a dot inside a label, \DDD for other odd bytes). One canonical string per name, so a name
// is a Map key as it is.

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;

export class NameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NameError";
  }
}

/** Splits a canonical name into labels, keeping escapes inside labels. */
export function labelsOf(name: string): string[] {
  if (name === "") return [];
  if (!name.includes("\\")) return name.split(".");
  const labels: string[] = [];
  let current = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "\\") {
      const digits = /^\d{3}/.test(name.slice(i + 1, i + 4));
      const take = digits ? 4 : 2;
      current += name.slice(i, i + take);
      i += take - 1;
    } else if (c === ".") {
      labels.push(current);
      current = "";
    } else current += c;
  }
  labels.push(current);
  return labels;
}

/** Decodes one presentation label (with escapes) to its bytes. */
export function labelBytes(label: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const code = label.charCodeAt(i);
    if (code !== 0x5c) {
      out.push(code);
      continue;
    }
    const digits = label.slice(i + 1, i + 4);
    if (/^\d{3}$/.test(digits)) {
      const value = Number(digits);
      if (value > 255) throw new NameError(`escape \\${digits} is over 255`);
      out.push(value);
      i += 3;
    } else if (i + 1 < label.length) {
      out.push(label.charCodeAt(i + 1));
      i += 1;
    } else throw new NameError("name ends in a lone backslash");
  }
  return out;
}

/** Writes one label's bytes in canonical presentation form (lower case, escapes where needed). */
export function presentLabel(bytes: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    let b = bytes[i]!;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b === 0x2e || b === 0x5c) s += "\\" + String.fromCharCode(b);
    else if (b <= 0x20 || b >= 0x7f) s += "\\" + String(b).padStart(3, "0");
    else s += String.fromCharCode(b);
  }
  return s;
}

/**
 * Parses a name as an operator writes it ("App.Example.com.", "example.com", "@" is not handled here)
 * into canonical form, checking label and name lengths. Relative names are taken as absolute.
 */
export function normalizeName(input: string): string {
  let s = input.trim();
  if (s === "." || s === "") return "";
  if (s.endsWith(".") && !s.endsWith("\\.")) s = s.slice(0, -1);
  const labels = labelsOf(s);
  let wireLength = 1;
  const canonical = labels.map((label) => {
    if (label === "") throw new NameError(`empty label in "${input}"`);
    const bytes = labelBytes(label);
    if (bytes.length > MAX_LABEL) throw new NameError(`label "${label}" is longer than ${MAX_LABEL} bytes`);
    wireLength += bytes.length + 1;
    return presentLabel(bytes);
  });
  if (wireLength > MAX_NAME_WIRE) throw new NameError(`name "${input}" is longer than ${MAX_NAME_WIRE} bytes`);
  return canonical.join(".");
}

/** True when name equals zone or lies below it. Both canonical. */
export function isAtOrBelow(name: string, zone: string): boolean {
  if (zone === "") return true;
  return name === zone || name.endsWith("." + zone);
}

/** The name with its first label removed; the root's parent is null. */
export function parentOf(name: string): string | null {
  if (name === "") return null;
  const labels = labelsOf(name);
  return labels.slice(1).join(".");
}

/** Prefixes a relative name to an origin: ("www", "example.com") → "www.example.com". */
export function joinName(relative: string, origin: string): string {
  if (relative === "") return origin;
  return origin === "" ? relative : `${relative}.${origin}`;
}

/** Absolute presentation with the trailing dot, for messages and zone-file output. */
export function fqdn(name: string): string {
  return name + ".";
}
