// A backend as a real process on its own loopback address, to kill and bring back in failover tests.

import { resolve } from "node:path";
import type { Subprocess } from "bun";

const SERVER = resolve(import.meta.dir, "../fixtures/backend-server.ts");

export class BackendProcess {
  private proc: Subprocess<"ignore", "pipe", "inherit"> | undefined;
  port = 0;

  constructor(
    readonly kind: "http" | "tcp",
    readonly address: string,
  ) {}

  /** Starts it (on its previous port when it had one) and waits until it listens. */
  async start(): Promise<this> {
    this.proc = Bun.spawn([process.execPath, SERVER, this.kind, this.address, String(this.port)], { stdout: "pipe", stderr: "inherit" });
    const reader = this.proc.stdout.getReader();
    let text = "";
    while (!/listening \d+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`backend ${this.kind} ${this.address}:${this.port} exited before listening`);
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    this.port = Number(/listening (\d+)/.exec(text)![1]);
    return this;
  }

  /** SIGKILL: no goodbye, as a crash looks from outside. */
  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = undefined;
  }
}
