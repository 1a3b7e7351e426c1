// The one health view the answer path reads: an immutable, versioned value. Readers never await and
// never see a half-applied change; a writer publishes a whole new snapshot.

export type HealthState = "up" | "down";

export interface BackendHealth {
  state: HealthState;
  /** Why it is in this state, in words an operator reads. */
  reason: string;
  /** When it entered this state (ms since epoch). */
  since: number;
}

/** Identifies one backend of one service: the unit health is decided for. */
export function backendKey(service: string, address: string, port: number): string {
  return `${service}|${address}|${port}`;
}

export class HealthSnapshot {
  constructor(
    readonly version: number,
    private readonly states: ReadonlyMap<string, BackendHealth>,
    /** Per service, the keys of the backends that were up the last time any was. */
    private readonly lastGood: ReadonlyMap<string, ReadonlySet<string>>,
  ) {}

  static empty(): HealthSnapshot {
    return new HealthSnapshot(0, new Map(), new Map());
  }

  /** Unknown backends (never reported) count as up: answers start full and probes take out. */
  get(service: string, address: string, port: number): BackendHealth | undefined {
    return this.states.get(backendKey(service, address, port));
  }

  isUp(service: string, address: string, port: number): boolean {
    return this.get(service, address, port)?.state !== "down";
  }

  /** The backends of a service that were up when it last had any up; undefined if never recorded. */
  lastKnownGood(service: string): ReadonlySet<string> | undefined {
    return this.lastGood.get(service);
  }

  /** A new snapshot with these states changed. `servicesOf` lists every backend key per service. */
  with(changes: Iterable<[string, BackendHealth]>, servicesOf: ReadonlyMap<string, readonly string[]>): HealthSnapshot {
    const states = new Map(this.states);
    for (const [key, health] of changes) states.set(key, health);
    const lastGood = new Map(this.lastGood);
    for (const [service, keys] of servicesOf) {
      const up = keys.filter((k) => states.get(k)?.state !== "down");
      if (up.length > 0) lastGood.set(service, new Set(up));
    }
    return new HealthSnapshot(this.version + 1, states, lastGood);
  }
}
