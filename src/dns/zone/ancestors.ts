import { labelsOf } from "../../lib/dns-name.ts";

/** A canonical name and each name above it, ending with the root: "a.b" → ["a.b", "b", ""]. */
export function nameAndAncestors(name: string): string[] {
  const names = [name];
  if (name === "") return names;
  if (name.includes("\\")) {
    // An escaped dot is inside a label, so split by labels rather than by ".".
    const labels = labelsOf(name);
    for (let i = 1; i <= labels.length; i++) names.push(labels.slice(i).join("."));
    return names;
  }
  for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) names.push(name.slice(dot + 1));
  names.push("");
  return names;
}
