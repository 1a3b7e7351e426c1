// Errors an operator reads: each says what was wrong and where, never a stack trace.

/** A problem with the configuration; `path` is the YAML path, `line` 1-based when known. */
export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${path || "(root)"}${line ? ` (line ${line})` : ""}: ${problem}`);
    this.name = "ConfigError";
  }
}

/** Several config problems found in one pass, reported together. */
export class ConfigErrors extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ConfigErrors";
  }
}

/** A start-up failure the operator can fix (unwritable data_dir, newer schema, port in use). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
