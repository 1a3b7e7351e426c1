// Durations as operators write them ("500ms", "5s", "1h30m", "2d"), turned into milliseconds once.
// A unit is always required: a bare "5" could mean seconds or milliseconds, so it is refused.

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

// Largest unit first, so formatDuration writes "1h30m" rather than "90m".
const UNITS_BY_SIZE: Unit[] = ["d", "h", "m", "s", "ms"];

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses "500ms", "5s", "5m", "1h", "1h30m", "2d", "1.5s" into whole milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const input = text.trim();
  const problem = `expected a duration with a unit (ms, s, m, h or d) such as "5s", got ${JSON.stringify(text)}`;
  if (input === "") throw new Error(problem);
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (!match) throw new Error(problem);
    total += Number(match[1]) * UNIT_MS[match[2] as Unit];
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new Error(`duration ${JSON.stringify(text)} is too long`);
  return ms;
}

/** Writes milliseconds the way parseDuration reads them: 5400000 → "1h30m", 500 → "500ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`cannot format ${ms} as a duration`);
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of UNITS_BY_SIZE) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * UNIT_MS[unit];
    }
  }
  return out;
}
