import { option, type Command } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import { VigilNode } from "../app/node.ts";
import { handleSignals } from "../app/signals.ts";
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
    let node: VigilNode;
    try {
      node = await VigilNode.start(() => loadConfigFile(path));
    } catch (err) {
      console.error(`vigil: cannot start: ${errorMessage(err)}`);
      return 1;
    }
    return new Promise<number>((resolve) => handleSignals(node, resolve));
  },
};
