// script probe: runs `command` (an argv list, never through a shell) and reads its exit status:
// 0 up, 1 warning, anything else (or death by a signal) down. The detail is "exit N: <first output line>".
//
// The script sees vigil's environment plus:
//   VIGIL_TARGET_ADDRESS  the address to check
//   VIGIL_TARGET_PORT     the port to check
//   VIGIL_CHECK_TYPE      the check type ("script")
//
// It runs in a process group of its own, and the whole group is killed (SIGKILL) at the timeout and
// when the script exits, so nothing it started outlives the check. Its stdout and stderr are kept up to
// `max_output` bytes together; the rest is read and dropped, so a chatty script never blocks on a pipe.

import type { ReadableSubprocess } from "bun";
import { CappedText, defineProbe, describeError, down, firstLine, up, warning, type Verdict } from "./result.ts";

export const scriptProbe = defineProbe(["script"], async (settings, target, signal) => {
  const [program = ""] = settings.command;
  let child: ReadableSubprocess;
  try {
    child = Bun.spawn(settings.command, {
      detached: true,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: {
        ...process.env,
        VIGIL_TARGET_ADDRESS: target.address,
        VIGIL_TARGET_PORT: String(target.port),
        VIGIL_CHECK_TYPE: settings.type,
      },
    });
  } catch (err) {
    return down(cannotRun(program, err));
  }

  // detached made the child a process group leader, so -pid names the group.
  const killGroup = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  signal.addEventListener("abort", killGroup, { once: true });
  const output = new CappedText(settings.max_output);
  const reading = Promise.all([readInto(child.stdout, output), readInto(child.stderr, output)]);
  try {
    await child.exited;
    // Leftover children would hold the pipes open, and a check must not leave processes behind.
    killGroup();
    await reading;
  } finally {
    signal.removeEventListener("abort", killGroup);
  }
  return verdictOf(child, firstLine(output.text));
});

async function readInto(stream: ReadableStream<Uint8Array>, output: CappedText): Promise<void> {
  for await (const chunk of stream) output.add(chunk);
}

function verdictOf(child: ReadableSubprocess, line: string): Verdict {
  const said = line ? `: ${line}` : "";
  if (child.signalCode) return down(`killed by ${child.signalCode}${said}`);
  const detail = `exit ${child.exitCode}${said}`;
  if (child.exitCode === 0) return up(detail);
  return child.exitCode === 1 ? warning(detail) : down(detail);
}

function cannotRun(program: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === "ENOENT") return `command not found: ${program}`;
  if (code === "EACCES") return `permission denied: ${program}`;
  return `cannot run ${program}: ${describeError(err)}`;
}
