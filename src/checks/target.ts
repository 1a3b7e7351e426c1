// The identity of a probe target: what is probed and how. Backends that would send the very same
// probe share one run. Timing and thresholds are left out: they may differ between those backends.

import type { HealthCheckConfig } from "../config/types.ts";
import { formatHostPort } from "../lib/hostport.ts";

/** Keys outside the type's own settings: the type leads the key; timing and thresholds are no part of it. */
const NOT_SETTINGS: ReadonlySet<string> = new Set<keyof HealthCheckConfig>([
  "type",
  "interval",
  "timeout",
  "failure_threshold",
  "success_threshold",
]);

/** "http 10.0.0.1:80 {…the type's own settings, keys sorted…}"; readable in logs and the API. */
export function targetKeyOf(check: HealthCheckConfig, address: string, port: number): string {
  const settings = Object.entries(check)
    .filter(([name, value]) => value !== undefined && !NOT_SETTINGS.has(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `${check.type} ${formatHostPort({ host: address, port })} ${JSON.stringify(Object.fromEntries(settings))}`;
}
