// Collects every configuration problem of one load, each with its YAML path and line, so the operator
// sees them all at once instead of fixing one per restart.

import { ConfigError } from "../lib/errors.ts";

const LAST_SEGMENT = /(\.[^.[\]]+|\[\d+\])$/;

export class Issues {
  readonly errors: ConfigError[] = [];
  private readonly lines = new Map<string, number>();

  /** Remembers where a path was written, for problems found later (cross-field rules). */
  seen(path: string, line: number | undefined): void {
    if (line !== undefined && !this.lines.has(path)) this.lines.set(path, line);
  }

  /** The line of path, or of its nearest written ancestor when the key itself is absent. */
  lineOf(path: string): number | undefined {
    for (let p = path; ; p = p.replace(LAST_SEGMENT, "")) {
      const line = this.lines.get(p);
      if (line !== undefined) return line;
      if (!LAST_SEGMENT.test(p)) return undefined;
    }
  }

  /** Records a problem; a path keeps only its first, so one bad value (an unset ${VAR}) is reported once. */
  add(path: string, problem: string, line = this.lineOf(path)): void {
    if (this.errors.some((error) => error.path === path)) return;
    this.errors.push(new ConfigError(path, line, problem));
  }

  /** Problems in file order; those without a line keep their order at the end. */
  sorted(): ConfigError[] {
    return this.errors
      .map((error, index) => ({ error, index }))
      .sort((a, b) => (a.error.line ?? Infinity) - (b.error.line ?? Infinity) || a.index - b.index)
      .map(({ error }) => error);
  }
}
