// Runs the compiled binary (dist/vigil) the way an operator would, and reads its JSON log.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { GiveUp, waitFor } from "./wait.ts";

export const BINARY = resolve(import.meta.dir, "../../dist/vigil");

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class VigilProcess {
  readonly logs: LogLine[] = [];
  readonly stdout: string[] = [];
  private constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly dir: string,
    readonly configPath: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /** Starts `vigil --config <file>` with the given YAML; the temp dir holds config and data. */
  /** `wrap` runs it through another command, e.g. `ip netns exec NAME`. */
  static async start(configYaml: (dir: string) => string, extraEnv: Record<string, string> = {}, wrap: string[] = []): Promise<VigilProcess> {
    if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` first`);
    const dir = mkdtempSync(join(tmpdir(), "vigil-e2e-"));
    const configPath = join(dir, "vigil.yaml");
    writeFileSync(configPath, configYaml(dir));
    return VigilProcess.spawn([...wrap, BINARY, "--config", configPath], dir, configPath, extraEnv);
  }

  static spawn(cmd: string[], dir: string, configPath: string, extraEnv: Record<string, string> = {}): VigilProcess {
    const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...extraEnv } });
    const vp = new VigilProcess(proc, dir, configPath, extraEnv);
    void vp.pump(proc.stderr, (line) => {
      try {
        vp.logs.push(JSON.parse(line));
      } catch {
        vp.logs.push({ level: "raw", msg: line });
      }
    });
    void vp.pump(proc.stdout, (line) => vp.stdout.push(line));
    return vp;
  }

  /** The DNS port from the "vigil started" line (tests listen on port 0). */
  async dnsPort(timeoutMs = 10_000): Promise<number> {
    const started = await this.waitForLog((l) => l.msg === "vigil started", timeoutMs);
    const dns = started.dns as { udpPort: number }[];
    return dns[0]!.udpPort;
  }

  /** The API's base URL from the "vigil started" line. */
  async apiUrl(timeoutMs = 10_000): Promise<string> {
    const started = await this.waitForLog((l) => l.msg === "vigil started", timeoutMs);
    return `http://${started.api as string}`;
  }

  /** Stops the process but keeps its directory (config and data), for a restart with spawnAgain. */
  async halt(): Promise<number> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    return this.proc.exited;
  }

  /** The same binary on the same config and data, after halt(). */
  spawnAgain(): VigilProcess {
    return VigilProcess.spawn([BINARY, "--config", this.configPath], this.dir, this.configPath, this.extraEnv);
  }

  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return waitFor(`a log line (have: ${this.logs.map((l) => l.msg).join(" | ")})`, () => {
      if (this.proc.exitCode !== null && !this.logs.some(match)) {
        throw new GiveUp(`vigil exited with ${this.proc.exitCode}: ${this.logs.map((l) => l.msg).join(" | ")}`);
      }
      return this.logs.find(match);
    }, timeoutMs);
  }

  writeConfig(yaml: string): void {
    writeFileSync(this.configPath, yaml);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  async stop(): Promise<number> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    const code = await this.proc.exited;
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }

  private async pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    if (buffered) onLine(buffered);
  }
}
