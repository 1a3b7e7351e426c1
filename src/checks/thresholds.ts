// Rise and fall for one watched backend: a verdict changes only after enough consecutive results
// disagree with it, so one lost packet does not pull a backend out of the answers.

import type { HealthCheckConfig } from "../config/types.ts";
import type { Verdict } from "../health/decide.ts";
import type { ProbeResult } from "./types.ts";

export interface Observation {
  verdict: Verdict;
  changed: boolean;
  /** The latest result's detail; while it disagrees with the verdict, how far the count has got. */
  detail: string;
}

export class ThresholdTracker {
  private current: Verdict;
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly check: Pick<HealthCheckConfig, "failure_threshold" | "success_threshold">,
    initial: Verdict,
  ) {
    this.current = initial;
  }

  get verdict(): Verdict {
    return this.current;
  }

  get consecutiveSuccesses(): number {
    return this.successes;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** From unknown the first result decides at once, so a fresh node learns the truth in its first round. */
  observe(result: ProbeResult): Observation {
    // A warning is up: worth showing, not worth pulling the backend.
    const good = result.status !== "down";
    this.successes = good ? this.successes + 1 : 0;
    this.failures = good ? 0 : this.failures + 1;
    const before = this.current;
    if (before === "unknown") this.current = good ? "up" : "down";
    else if (before === "up" && this.failures >= this.check.failure_threshold) this.current = "down";
    else if (before === "down" && this.successes >= this.check.success_threshold) this.current = "up";
    return { verdict: this.current, changed: this.current !== before, detail: this.detailOf(result) };
  }

  private detailOf(result: ProbeResult): string {
    if (this.current === "up" && this.failures > 0) {
      return `${result.detail} (${this.failures} of ${this.check.failure_threshold} failures before down)`;
    }
    if (this.current === "down" && this.successes > 0) {
      return `${result.detail} (${this.successes} of ${this.check.success_threshold} successes before up)`;
    }
    return result.detail;
  }
}
