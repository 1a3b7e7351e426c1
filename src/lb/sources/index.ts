// One source per `backends` block of a balancer server (or SNI route), chosen by its kind.

import type { LbBackendSource } from "../../config/types.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/log.ts";
import type { BackendSource } from "../types.ts";
import { ServiceSource, type ServiceView } from "./service-source.ts";
import { SrvSource } from "./srv-source.ts";
import { staticSource } from "./static-source.ts";

export type { ServiceView } from "./service-source.ts";

export interface SourceDeps {
  clock: Clock;
  log: Logger;
  /** The node's services and their health (see service-view.ts). */
  services: ServiceView;
}

export function makeSource(config: LbBackendSource, deps: SourceDeps): BackendSource {
  switch (config.kind) {
    case "service":
      return new ServiceSource(config.service, deps.services, deps.log);
    case "static":
      return staticSource(config.backends);
    case "srv":
      return new SrvSource(config, deps);
  }
}
