import type { Command } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import { buildEngine } from "../dns/server/engine.ts";
import { describeBuildError } from "../app/build-errors.ts";
import { errorMessage } from "../lib/errors.ts";

export const checkConfigCommand: Command = {
  name: "check-config",
  summary: "validate a config file (and the zones it builds); exit 0 if valid, 1 if not",
  usage: "vigil check-config FILE",
  async run(args) {
    const path = args.find((a) => !a.startsWith("-"));
    if (!path) {
      console.error("vigil check-config: which file? usage: vigil check-config FILE");
      return 2;
    }
    try {
      const config = loadConfigFile(path);
      // Zones are built too (with throwaway serials), so record syntax and RFC rules are checked here.
      buildEngine(config, () => 1);
      console.log(`${path}: valid (${config.mode} mode, ${config.dns.zones.length} zone(s), ${config.services.length} service(s))`);
      return 0;
    } catch (err) {
      console.error(`${path}: invalid\n${describeBuildError(err) || errorMessage(err)}`);
      return 1;
    }
  },
};
