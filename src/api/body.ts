// Request bodies: JSON objects only, each field checked by kind, and an unknown field is an error
// (a typo such as "healty" must not pass as "no change").

import type { Context } from "hono";
import { parseDuration } from "../lib/duration.ts";
import { ApiError, badField } from "./errors.ts";

export async function readJsonObject(c: Context): Promise<BodyFields> {
  const type = c.req.header("content-type");
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, `body: expected Content-Type application/json, got ${type.slice(0, 100)}`, "body");
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badField("body", `not JSON (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badField("body", "expected a JSON object");
  return new BodyFields(value as Record<string, unknown>);
}

export class BodyFields {
  private readonly read = new Set<string>();

  constructor(private readonly body: Record<string, unknown>) {}

  boolean(name: string): boolean {
    const value = this.take(name);
    if (typeof value !== "boolean") throw badField(name, `expected true or false, got ${describe(value)}`);
    return value;
  }

  /** A string of 1..maxLength characters without control characters. */
  string(name: string, maxLength: number): string {
    const value = this.take(name);
    if (typeof value !== "string" || value.trim() === "") throw badField(name, `expected a non-empty string, got ${describe(value)}`);
    if (value.length > maxLength) throw badField(name, `longer than ${maxLength} characters`);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw badField(name, "contains control characters");
    return value;
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  /** An ISO 8601 time, in ms since the epoch. */
  time(name: string): number {
    const value = this.take(name);
    const ms = typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : NaN;
    if (!Number.isFinite(ms)) throw badField(name, `expected an ISO 8601 time such as "2030-01-01T12:00:00Z", got ${describe(value)}`);
    return ms;
  }

  /** A duration such as "30m", in ms. */
  duration(name: string): number {
    const value = this.take(name);
    let ms = 0;
    try {
      ms = typeof value === "string" ? parseDuration(value) : 0;
    } catch {
      // reported below, with the field's name
    }
    if (ms <= 0) throw badField(name, `expected a duration such as "30m" or "2h", got ${describe(value)}`);
    return ms;
  }

  /** Call after reading every known field: anything left is a mistake. */
  done(): void {
    const unknown = Object.keys(this.body).filter((k) => !this.read.has(k));
    if (unknown.length > 0) throw badField(unknown[0]!, `unknown field; expected ${[...this.read].join(", ")}`);
  }

  private take(name: string): unknown {
    this.read.add(name);
    return this.body[name];
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
