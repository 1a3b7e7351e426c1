// Structured logging: one line per event, JSON or key=value text, with a level filter.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "text";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

const stderrSink: LogSink = { write: (line) => process.stderr.write(line + "\n") };

/** The settings are read on every call, so a reload can change level and format in place. */
export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

export function createLogger(settings: LogSettings, sink: LogSink = stderrSink, base: LogFields = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < RANK[settings.level]) return;
    const all = { ...base, ...fields };
    sink.write(settings.format === "json" ? jsonLine(level, msg, all) : textLine(level, msg, all));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(settings, sink, { ...base, ...fields }),
  };
}

function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, jsonSafe);
}

function textLine(level: LogLevel, msg: string, fields: LogFields): string {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`);
  return [new Date().toISOString(), level.toUpperCase().padEnd(5), msg, ...parts].join(" ");
}

function formatValue(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v, jsonSafe);
  return /[\s"=]/.test(s ?? "") ? JSON.stringify(s) : String(s);
}

function jsonSafe(_key: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === "bigint") return v.toString();
  return v;
}
