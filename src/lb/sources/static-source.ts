// Backends written in the config: the list is offered once, when the pool starts listening.

import type { LbStaticBackend } from "../../config/types.ts";
import type { BackendSource, LbTarget } from "../types.ts";

export function staticSource(backends: readonly LbStaticBackend[]): BackendSource {
  const targets: readonly LbTarget[] = backends.map(({ address, port, weight }) => ({ address, port, weight }));
  return {
    start: (onChange) => onChange(targets),
    stop: () => {},
  };
}
