// From the config, what this node watches: one watch per backend that has a health check, and the
// distinct targets behind them (backends sending the very same probe share one target).

import type { HealthCheckConfig, ServiceConfig } from "../config/types.ts";
import { targetKeyOf } from "./target.ts";
import type { ProbeTarget } from "./types.ts";

/** One backend under watch: its identity as answered, where and how it is probed. */
export interface Watch {
  /** The service's fqdn. */
  service: string;
  /** The backend's own address and port (its identity), not where the probe goes. */
  address: string;
  port: number;
  /** Where the probe goes; target.check is this backend's own check. */
  target: ProbeTarget;
  /** This backend's check: its thresholds apply to this watch alone. */
  check: HealthCheckConfig;
}

/** A backend's own health_check overrides its service's; a backend with neither is not watched. */
export function watchesOf(services: readonly ServiceConfig[]): Watch[] {
  const watches: Watch[] = [];
  for (const service of services) {
    for (const backend of service.backends) {
      const check = backend.health_check ?? service.health_check;
      if (!check) continue;
      const address = backend.check_address ?? backend.address;
      const port = backend.check_port ?? backend.port;
      watches.push({
        service: service.fqdn,
        address: backend.address,
        port: backend.port,
        target: { key: targetKeyOf(check, address, port), check, address, port },
        check,
      });
    }
  }
  return watches;
}

/** The distinct targets, each probed as often and as strictly as the most demanding watch sharing it asks. */
export function targetsOf(watches: readonly Watch[]): ProbeTarget[] {
  const targets = new Map<string, ProbeTarget>();
  for (const { target } of watches) {
    const seen = targets.get(target.key);
    if (!seen) {
      targets.set(target.key, target);
      continue;
    }
    const interval = Math.min(seen.check.interval, target.check.interval);
    const timeout = Math.min(seen.check.timeout, target.check.timeout);
    targets.set(target.key, { ...seen, check: { ...seen.check, interval, timeout } });
  }
  return [...targets.values()];
}

/** The watches fed by each target key: one probe result goes to every backend sharing the target. */
export function watchesByTarget(watches: readonly Watch[]): Map<string, Watch[]> {
  const byTarget = new Map<string, Watch[]>();
  for (const watch of watches) {
    const sharing = byTarget.get(watch.target.key);
    if (sharing) sharing.push(watch);
    else byTarget.set(watch.target.key, [watch]);
  }
  return byTarget;
}
