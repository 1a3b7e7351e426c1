import { option, type Command } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import { VigilNode } from "../app/node.ts";
import { AgentNode } from "../app/agent-node.ts";
import { handleSignals, type SignalTarget } from "../app/signals.ts";
import { errorMessage } from "../lib/errors.ts";

export const runCommand: Command = {
  name: "run",
  summary: "run a node from a config file (same as `vigil --config FILE`)",
  usage: "vigil --config FILE\n       vigil run --config FILE",
  async run(args) {
    const path = option(args, "--config", "-c");
    if (!path) {
      console.error("vigil: --config FILE is required (try `vigil demo` to run on the embedded config)");
      return 2;
    }
    const source = () => loadConfigFile(path);
    let node: SignalTarget;
    try {
      // The mode picks the kind of node; changing it takes a restart.
      node = source().mode === "agent" ? await AgentNode.start(source) : await VigilNode.start(source);
    } catch (err) {
      console.error(`vigil: cannot start: ${errorMessage(err)}`);
      return 1;
    }
    return new Promise<number>((resolve) => handleSignals(node, resolve));
  },
};
