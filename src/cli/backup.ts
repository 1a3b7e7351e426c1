import { option, type Command } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import { backupDataDir } from "../store/backup.ts";
import { openBunDatabase } from "../store/driver-bun.ts";
import { errorMessage } from "../lib/errors.ts";

export const backupCommand: Command = {
  name: "backup",
  summary: "copy the state database to a new file, consistently, while the node runs",
  usage: [
    "vigil backup --to FILE --config FILE",
    "       vigil backup --to FILE --data-dir DIR",
    "",
    "  --to        the backup file to create; an existing file is never overwritten",
    "  --config    back up the data_dir of this config's node",
    "  --data-dir  back up this data directory",
    "",
    "  The copy is one SQLite file, a snapshot of one moment, checked with PRAGMA integrity_check and",
    "  readable by its owner only (mode 0600): it holds the DNSSEC private keys.",
    "  Restore: stop the node, move vigil.db, vigil.db-wal and vigil.db-shm out of data_dir, copy the",
    "  backup to data_dir/vigil.db (owned by the node's user, mode 0600), start the node.",
  ].join("\n"),
  async run(args) {
    const target = option(args, "--to");
    const dataDirOption = option(args, "--data-dir");
    const configPath = option(args, "--config", "-c");
    if (!target || !dataDirOption === !configPath) {
      const want = target ? "one of --config FILE or --data-dir DIR" : "--to FILE";
      console.error(`vigil backup: ${want} is required\n\nusage: ${backupCommand.usage}`);
      return 2;
    }
    try {
      const dataDir = dataDirOption ?? loadConfigFile(configPath!).data_dir;
      const made = backupDataDir(dataDir, target, openBunDatabase);
      console.log(`backed up ${made.source} to ${made.target}: ${made.bytes} bytes, schema version ${made.schemaVersion}, integrity ok`);
      return 0;
    } catch (err) {
      console.error(`vigil backup: ${errorMessage(err)}`);
      return 1;
    }
  },
};
