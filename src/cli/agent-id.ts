// `vigil agent-id`: prints an agent's id, making its identity (agent/identity.ts) first when the data
// directory has none, so an installer can create it and show the operator the id the overwatches will
// pin, before the agent ever starts. Running it again prints the same id and changes nothing.
import { chownSync, statSync } from "node:fs";
import type { Command } from "./command.ts";
import { loadOrCreateIdentity } from "../agent/identity.ts";
import { loadConfigFile, parseConfig } from "../config/load.ts";
import { errorMessage } from "../lib/errors.ts";

const USAGE =
  "vigil agent-id [--data-dir DIR | --config FILE]\n\n" +
  "The identity is DIR/agent-identity.json (default: the config's data_dir, else /var/lib/vigil).\n" +
  "Run it as the agent's user; as root, a new identity is given to the owner of DIR.";

interface Where {
  dataDir?: string;
  config?: string;
}

export const agentIdCommand: Command = {
  name: "agent-id",
  summary: "print this agent's id, making its identity in the data directory if there is none",
  usage: USAGE,
  async run(args) {
    let where: Where;
    try {
      where = parseArgs(args);
    } catch (err) {
      console.error(`vigil agent-id: ${errorMessage(err)}\nusage: ${USAGE.split("\n")[0]}`);
      return 2;
    }
    try {
      const dataDir = dataDirOf(where);
      const { identity, created, file } = loadOrCreateIdentity(dataDir);
      if (created) {
        giveToDirOwner(file, dataDir);
        console.error(`vigil agent-id: made a new agent identity in ${file}`);
      }
      console.log(identity.agentId);
      return 0;
    } catch (err) {
      console.error(`vigil agent-id: ${errorMessage(err)}`);
      return 1;
    }
  },
};

/** `--data-dir DIR`, `--config FILE` (or `-c`), each also as `--name=value`; anything else is refused. */
function parseArgs(args: string[]): Where {
  const where: Where = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const key = name === "--data-dir" ? "dataDir" : name === "--config" || name === "-c" ? "config" : undefined;
    if (!key) throw new Error(`unexpected argument "${arg}"`);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    // An empty path would resolve to the working directory: never what was meant.
    if (!value) throw new Error(`${name} needs a value`);
    where[key] = value;
  }
  if (where.dataDir !== undefined && where.config !== undefined) throw new Error("give --data-dir or --config, not both");
  return where;
}

function dataDirOf(where: Where): string {
  if (where.dataDir !== undefined) return where.dataDir;
  // With no config, the schema's default data_dir: the one an agent without data_dir uses.
  return where.config !== undefined ? loadConfigFile(where.config).data_dir : parseConfig("", { env: {} }).data_dir;
}

/** A root-owned identity in the agent's directory would be unreadable to the agent: hand it over. */
function giveToDirOwner(file: string, dataDir: string): void {
  if (process.geteuid?.() !== 0) return;
  const owner = statSync(dataDir);
  if (owner.uid !== 0 || owner.gid !== 0) chownSync(file, owner.uid, owner.gid);
}
