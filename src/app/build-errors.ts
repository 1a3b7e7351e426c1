// Turns the zone builder's errors into the config-path form every other config error uses.

import { RecordSyntaxError } from "../dns/zone/records.ts";
import { ZoneBuildError } from "../dns/zone/build.ts";
import { StartupError, errorMessage } from "../lib/errors.ts";

export function describeBuildError(err: unknown): string {
  if (err instanceof RecordSyntaxError) return `dns.records (record line ${err.line}): ${err.problem}`;
  if (err instanceof ZoneBuildError) return `dns: ${err.message}`;
  if (err instanceof StartupError) return err.message;
  return errorMessage(err);
}
