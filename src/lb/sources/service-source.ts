// Backends of a vigil service, as the health view has them: only those up now, in and out the moment
// their effective state changes, so the balancer and the DNS answers never disagree.

import type { Logger } from "../../lib/log.ts";
import type { BackendSource, LbTarget } from "../types.ts";
import { sameTargets } from "./same-targets.ts";

/**
 * What the balancer needs from the node's services and health. The node implements it (see
 * service-view.ts) because only the node knows the services of the moment (config plus agents).
 */
export interface ServiceView {
  /**
   * The backends of `service` whose effective state is up now, with their configured weight;
   * undefined when no service has that name. `service` is matched as `serviceNamed` says.
   */
  backends(service: string): readonly LbTarget[] | undefined;
  /** Called after every change that may change some service's backends; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

export class ServiceSource implements BackendSource {
  private offered: readonly LbTarget[] | undefined;
  private missing = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly service: string,
    private readonly view: ServiceView,
    private readonly log: Logger,
  ) {}

  start(onChange: (targets: readonly LbTarget[]) => void): void {
    const offer = () => {
      const targets = this.current();
      if (this.offered && sameTargets(this.offered, targets)) return;
      this.offered = targets;
      onChange(targets);
    };
    this.unsubscribe = this.view.onChange(offer);
    offer();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** A service that is not there (yet: an agent may announce it later) has no backends; said once. */
  private current(): readonly LbTarget[] {
    const targets = this.view.backends(this.service);
    const missing = targets === undefined;
    if (missing !== this.missing) {
      this.missing = missing;
      if (missing) this.log.warn("lb backends: no service of that name; no backends until one appears", { service: this.service });
      else this.log.info("lb backends: service found", { service: this.service });
    }
    return targets ?? [];
  }
}
