import type { Command } from "./command.ts";
import { versionInfo } from "../lib/version.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "print the version and the git commit it was built from",
  usage: "vigil version",
  async run() {
    console.log(`vigil ${versionInfo.version} (commit ${versionInfo.commit}, bun ${Bun.version})`);
    return 0;
  },
};
