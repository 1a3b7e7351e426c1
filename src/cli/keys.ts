// `vigil keys`: the DNSSEC keys in a node's data_dir (read from --config), whether the node runs or
// not: a running node picks up a rollover or an import within a minute (STORE_RECHECK_MS).
//
// export writes the key set in clear JSON to a new file of mode 0600, never over an existing file:
// the same protection the keys have in the database, and readable by `import` on any node, whatever
// its api.token. Treat the file as the private keys it is.
import { readFileSync, writeFileSync } from "node:fs";
import { option, type Command } from "./command.ts";
import { loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { errorMessage } from "../lib/errors.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { defaultRolloverRole, dsRecordsOf, readKeySet, rollInStore, type KeySet } from "../dns/dnssec/keyring.ts";
import { decodeKeySets, encodeKeySets } from "../dns/dnssec/key-sync.ts";
import type { KeyRole } from "../dns/dnssec/types.ts";

const EXPORT_FORMAT = "vigil-dnssec-keys-1";
const OPTIONS_WITH_VALUES = ["--config", "-c", "--role", "--out"];

type Action = (config: Config, store: Store, operands: string[], args: string[]) => void;

const actions: Record<string, Action> = {
  list(config, store) {
    const rows = [["ZONE", "TAG", "ROLE", "ALGORITHM", "STATE", "SINCE", "NEXT CHANGE", "CREATED"]];
    for (const zone of config.dns.zones) {
      const set = readKeySet(store.dnssecKeys, zone);
      if (!set) rows.push([zone, "-", "-", "-", "no keys yet (made at the node's first start)", "", "", ""]);
      for (const k of set?.keys ?? []) {
        const next = k.nextTransitionAt ? time(k.nextTransitionAt) : k.state === "published" ? "scheduled by the node" : "-";
        rows.push([zone, String(k.tag), k.role.toUpperCase(), String(k.algorithm), k.state, time(k.stateSince), next, time(k.createdAt)]);
      }
    }
    console.log(table(rows));
  },

  ds(config, store, [zone]) {
    for (const name of zone ? [zoneIn(config, zone)] : config.dns.zones) {
      const set = readKeySet(store.dnssecKeys, name);
      if (!set) console.log(`; ${name}: no keys yet`);
      for (const ds of set ? dsRecordsOf(set) : []) console.log(ds.record);
    }
  },

  rollover(config, store, [zone], args) {
    const name = zoneIn(config, required(zone, "ZONE"));
    const role = (option(args, "--role") ?? defaultRolloverRole(config.dns.dnssec.key_type)) as KeyRole;
    if (!["csk", "ksk", "zsk"].includes(role)) throw new Error(`--role: expected zsk, ksk or csk, got "${role}"`);
    const key = rollInStore(store.dnssecKeys, name, role, Date.now());
    console.log(`${name}: new ${role.toUpperCase()} ${key.tag} published.`);
    console.log("The node makes it active after the DNSKEY TTL and the propagation delay, then retires the old one (see `vigil keys list`).");
    if (role !== "zsk") console.log("Once it is active its DS appears in `vigil keys ds`: publish it at the parent zone then.");
  },

  export(config, store, [zone], args) {
    const name = zoneIn(config, required(zone, "ZONE"));
    const out = required(option(args, "--out"), "--out FILE");
    const set = readKeySet(store.dnssecKeys, name);
    if (!set) throw new Error(`${name} has no keys yet`);
    const file = { format: EXPORT_FORMAT, exported_at: new Date().toISOString(), zones: encodeKeySets([set]) };
    try {
      writeFileSync(out, JSON.stringify(file, null, 2) + "\n", { flag: "wx", mode: 0o600 });
    } catch (err) {
      throw new Error(`cannot write ${out}: ${errorMessage(err)} (an existing file is never overwritten)`);
    }
    console.log(`${name}: ${set.keys.length} key(s) written to ${out} (mode 0600, private keys in clear: keep it safe)`);
  },

  import(config, store, [path]) {
    const file = JSON.parse(readFileSync(required(path, "FILE"), "utf8")) as { format?: unknown; zones?: unknown };
    if (file.format !== EXPORT_FORMAT) throw new Error(`${path} is not a file \`vigil keys export\` wrote`);
    for (const set of decodeKeySets(file.zones)) {
      zoneIn(config, set.zone);
      const stored = store.dnssecKeys.get(set.zone)?.revision;
      // One above both: the import then wins key sync over the peers' older sets.
      const imported: KeySet = { ...set, revision: Math.max(stored ?? 0, set.revision) + 1 };
      if (!store.dnssecKeys.replace(imported, stored)) throw new Error(`the keys of ${set.zone} changed during the import: try again`);
      console.log(`${set.zone}: imported ${set.keys.length} key(s) (${set.keys.map((k) => `${k.role} ${k.tag} ${k.state}`).join(", ")})`);
    }
  },
};

export const keysCommand: Command = {
  name: "keys",
  summary: "DNSSEC keys: list, DS records, start a rollover, export, import",
  usage: [
    "vigil keys list                               --config FILE",
    "       vigil keys ds [ZONE]                          --config FILE",
    "       vigil keys rollover ZONE [--role zsk|ksk|csk] --config FILE",
    "       vigil keys export ZONE --out FILE             --config FILE",
    "       vigil keys import FILE                        --config FILE",
    "",
    "  Works on the data_dir of the config's node; a running node takes up changes within a minute.",
    "  list shows tags, roles, states and times, never key material. rollover defaults to the CSK,",
    "  or the ZSK with key_type ksk_zsk. export writes a new 0600 file with the private keys in clear.",
  ].join("\n"),
  async run(args) {
    const [name, ...rest] = operands(args);
    const action = name === undefined ? undefined : actions[name];
    const configPath = option(args, "--config", "-c");
    if (!action || !configPath) {
      console.error(`vigil keys: ${action ? "--config FILE is required" : `expected one of ${Object.keys(actions).join(", ")}`}\n\nusage: ${keysCommand.usage}`);
      return 2;
    }
    let store: Store | undefined;
    try {
      const config = loadConfigFile(configPath);
      store = openStore(config.data_dir);
      action(config, store, rest, args);
      return 0;
    } catch (err) {
      console.error(`vigil keys ${name}: ${errorMessage(err)}`);
      return 1;
    } finally {
      store?.close();
    }
  },
};

/** The arguments that are neither options nor their values. */
function operands(args: string[]): string[] {
  return args.filter((arg, i) => !arg.startsWith("-") && !OPTIONS_WITH_VALUES.includes(args[i - 1] ?? ""));
}

function zoneIn(config: Config, zone: string): string {
  const name = zone.toLowerCase().replace(/\.$/, "");
  if (!config.dns.zones.includes(name)) throw new Error(`${zone} is not one of the config's zones (${config.dns.zones.join(", ")})`);
  return name;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`${what} is required`);
  return value;
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()).join("\n");
}
