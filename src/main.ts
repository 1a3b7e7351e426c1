// CLI entry: argv → command. `vigil --config FILE` runs a node, as the deployment guide's form does.

import { wantsHelp, type Command } from "./cli/command.ts";
import { runCommand } from "./cli/run.ts";
import { demoCommand } from "./cli/demo.ts";
import { checkConfigCommand } from "./cli/check-config.ts";
import { versionCommand } from "./cli/version.ts";
import { statusCommand } from "./cli/status.ts";
import { keysCommand } from "./cli/keys.ts";
import { backupCommand } from "./cli/backup.ts";
import { healthCommand } from "./cli/health.ts";
import { agentIdCommand } from "./cli/agent-id.ts";

const commands: Command[] = [runCommand, demoCommand, statusCommand, healthCommand, keysCommand, agentIdCommand, backupCommand, checkConfigCommand, versionCommand];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "vigil: a DNS GSLB appliance (authoritative DNS with healthy endpoints only)",
    "",
    "usage: vigil --config FILE        run a node",
    "       vigil COMMAND [ARGS]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`vigil COMMAND --help` shows a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    console.log(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-v") return versionCommand.run([]);
  const command = first.startsWith("-") ? runCommand : commands.find((c) => c.name === first);
  const args = first.startsWith("-") ? argv : rest;
  if (!command) {
    console.error(`vigil: unknown command "${first}"\n\n${overview()}`);
    return 2;
  }
  if (wantsHelp(args)) {
    console.log(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  return command.run(args);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
