// What the other overwatches' own probes say, as they gossip it: each peer's set of backends it sees
// down, with the time of its last report. A report older than the freshness window counts for
// nothing: a peer that went quiet must neither confirm a removal nor stand in a quorum.

export interface PeerTally {
  /** Fresh peers that report the backend down. */
  downVoters: string[];
  /** Fresh peers at all: the most that could agree. */
  reachable: number;
}

interface Report {
  down: ReadonlySet<string>;
  at: number;
}

export class PeerVerdicts {
  private readonly reports = new Map<string, Report>();

  constructor(private readonly freshnessMs: number) {}

  /** A peer's whole down set (backend keys) as of `at`, replacing what it said before. */
  update(peer: string, down: Iterable<string>, at: number): void {
    this.reports.set(peer, { down: new Set(down), at });
  }

  /** The peer left or died: its reports go with it. */
  forget(peer: string): boolean {
    return this.reports.delete(peer);
  }

  tally(key: string, now: number): PeerTally {
    const downVoters: string[] = [];
    let reachable = 0;
    for (const [peer, report] of this.reports) {
      if (now - report.at > this.freshnessMs) continue;
      reachable++;
      if (report.down.has(key)) downVoters.push(peer);
    }
    return { downVoters: downVoters.sort(), reachable };
  }

  /** The soonest time a fresh report goes stale, so the engine can decide again then. */
  nextExpiry(now: number): number | undefined {
    let next: number | undefined;
    for (const report of this.reports.values()) {
      const expires = report.at + this.freshnessMs;
      if (expires > now && (next === undefined || expires < next)) next = expires;
    }
    return next;
  }

  peers(now: number): { peer: string; fresh: boolean; at: number; down: number }[] {
    return [...this.reports].map(([peer, r]) => ({ peer, fresh: now - r.at <= this.freshnessMs, at: r.at, down: r.down.size }));
  }
}
