// Process signals: SIGHUP reloads the config; SIGTERM and SIGINT stop cleanly, and a watchdog makes
// sure the process is gone within 5 s even if something hangs.

import type { Logger } from "../lib/log.ts";

const STOP_DEADLINE_MS = 5000;

/** What signals act on: a VigilNode (standalone, overwatch) or an AgentNode. */
export interface SignalTarget {
  readonly log: Logger;
  reload(): Promise<unknown>;
  stop(): Promise<void>;
}

export function handleSignals(node: SignalTarget, onStopped: (code: number) => void): () => void {
  let stopping = false;
  const reload = () => void node.reload();
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    node.log.info("stopping", { signal });
    const watchdog = setTimeout(() => {
      node.log.error("stop took longer than 5 s; exiting anyway");
      onStopped(1);
    }, STOP_DEADLINE_MS);
    watchdog.unref?.();
    node.stop().then(
      () => onStopped(0),
      () => onStopped(1),
    );
  };
  const onTerm = () => stop("SIGTERM");
  const onInt = () => stop("SIGINT");
  process.on("SIGHUP", reload);
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return () => {
    process.off("SIGHUP", reload);
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
  };
}
