import type { Command } from "./command.ts";
import pkg from "../../package.json" with { type: "json" };

// Set by scripts/build.ts (bun build --define); absent when running from source.
declare const VIGIL_COMMIT: string | undefined;

export const versionInfo = {
  version: pkg.version,
  commit: typeof VIGIL_COMMIT === "string" ? VIGIL_COMMIT : "source",
};

export const versionCommand: Command = {
  name: "version",
  summary: "print the version and the git commit it was built from",
  usage: "vigil version",
  async run() {
    console.log(`vigil ${versionInfo.version} (commit ${versionInfo.commit}, bun ${Bun.version})`);
    return 0;
  },
};
