// Loopback servers and targets shared by the probe tests.

import type { HealthCheckConfig } from "../../../src/config/types.ts";
import type { Probe, ProbeKind, ProbeResult, ProbeTarget } from "../../../src/checks/types.ts";

type Timing = "interval" | "timeout" | "failure_threshold" | "success_threshold";
type WithoutTiming<C> = C extends unknown ? Omit<C, Timing> : never;

/** A check's own settings, without the timing every kind shares. */
export type CheckSettings = WithoutTiming<HealthCheckConfig>;
export type SettingsOfKind<K extends ProbeKind> = CheckSettings & { type: K };

/** A target on loopback whose check times out after `timeout` ms. */
export function targetOf(settings: CheckSettings, port: number, { timeout = 2000, address = "127.0.0.1" } = {}): ProbeTarget {
  const check: HealthCheckConfig = { interval: timeout * 2, timeout, failure_threshold: 1, success_threshold: 1, ...settings };
  return { key: `${settings.type}:${address}:${port}`, check, address, port };
}

/** Runs a probe the way the scheduler does: aborted at the check's timeout. */
export function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  return probe(target, AbortSignal.timeout(target.check.timeout));
}

/** A TCP port on loopback with nothing listening (bound, then closed). */
export function closedTcpPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** A TCP server whose connections are counted, so a test can see that a probe closed its socket. */
export interface CountingServer {
  port: number;
  accepted: number;
  open: number;
  stop(): void;
}

export interface CountingServerOptions {
  /** Written as soon as a client connects (a banner). */
  greeting?: string;
  /** The answer to each chunk received; nothing is written when it returns undefined. */
  reply?: (received: string) => string | undefined;
  /** Close the connection after writing a reply. */
  closeAfterReply?: boolean;
  tls?: { cert: string; key: string };
}

/** A TCP listener on loopback that counts its connections and answers as told. */
export function countingTcpServer({ greeting, reply, closeAfterReply, tls }: CountingServerOptions = {}): CountingServer {
  const counts = { accepted: 0, open: 0 };
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    tls,
    socket: {
      open(socket) {
        counts.accepted++;
        counts.open++;
        if (greeting !== undefined) socket.write(greeting);
      },
      data(socket, chunk) {
        const answer = reply?.(chunk.toString());
        if (answer === undefined) return;
        socket.write(answer);
        if (closeAfterReply) socket.end();
      },
      close() {
        counts.open--;
      },
    },
  });
  return {
    port: listener.port,
    get accepted() {
      return counts.accepted;
    },
    get open() {
      return counts.open;
    },
    stop: () => listener.stop(true),
  };
}
