// A backend's error rate for the predictive signal: the share of its probe runs that failed within
// the last window (a minute), counted per run before rise/fall thresholds, so failures show here
// while the verdict is still up. A warning counts as a success, as it does for the verdict.

export const ERROR_WINDOW_MS = 60_000;

export class ErrorRates {
  /** Per "address|port": run times and whether each failed, oldest first. */
  private readonly runs = new Map<string, { at: number; failed: boolean }[]>();

  constructor(private readonly windowMs = ERROR_WINDOW_MS) {}

  record(address: string, port: number, failed: boolean, at: number): void {
    const key = `${address}|${port}`;
    const runs = this.runs.get(key) ?? [];
    runs.push({ at, failed });
    this.runs.set(key, this.prune(runs, at));
  }

  /** Percent of failed runs in the window; undefined with no run in it (no health check, or not yet run). */
  percent(address: string, port: number, now: number): number | undefined {
    const runs = this.prune(this.runs.get(`${address}|${port}`) ?? [], now);
    if (runs.length === 0) return undefined;
    return (runs.filter((r) => r.failed).length / runs.length) * 100;
  }

  /** Forgets backends no longer configured. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.runs.keys()) if (!keys.has(key)) this.runs.delete(key);
  }

  private prune(runs: { at: number; failed: boolean }[], now: number) {
    const start = runs.findIndex((r) => r.at > now - this.windowMs);
    return start < 0 ? [] : start === 0 ? runs : runs.slice(start);
  }
}
