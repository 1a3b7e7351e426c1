// The appliance image's config sets, on this side: appliance/image/write-config.sh writes a set onto
// a raw image's config partition or a config drive, after the check the appliance itself makes
// (apply-config check, run here with the real vigil binary). Each bad input is refused with a message
// naming what is wrong, and leaves the image or drive as it was. The FAT file systems are read back
// with mtools, not mounted. Booting the image is scripts/boot-image-test.sh's part.

import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BINARY } from "../helpers/vigil-process.ts";

const WRITE_CONFIG = resolve(import.meta.dir, "../../appliance/image/write-config.sh");
// The FAT tools the script uses (dosfstools, mtools) and sfdisk (fdisk): Debian packages that a bare
// machine may lack. Skipped, and said so, without them.
const MISSING = ["mkfs.vfat", "fsck.vfat", "mcopy", "mtype", "mdir", "mlabel", "mmd", "sfdisk", "truncate"].filter((tool) => !Bun.which(tool));
if (MISSING.length) console.warn(`image-config.test: skipped: not installed: ${MISSING.join(", ")} (apt-get install dosfstools mtools fdisk)`);
const suite = describe.skipIf(MISSING.length > 0);
const SCRATCH = mkdtempSync(join(tmpdir(), "vigil-image-config-"));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

// The image's layout (appliance/image/lib.sh): boot 64 MiB at sector 2048, config 16 MiB after it.
const CONFIG_START = 2048 + 64 * 2048;
const ROOT_START = CONFIG_START + 16 * 2048;
const MIB = 1024 * 1024;

const VALID_YAML = `identity:
  node_id: site-a-1
dns:
  listen_address: "0.0.0.0:53"
  zones: [site-a.test]
  nameservers:
    - { name: ns1.site-a.test, addresses: [192.0.2.53] }
  records: |
    probe 5 IN TXT "one"
api:
  address: "0.0.0.0:8080"
  allowed_networks: [10.0.0.0/8]
  token: "\${API_TOKEN}"
`;
const NETWORK = "[Match]\nName=en*\n\n[Network]\nAddress=192.0.2.10/24\n";

let sets = 0;
/** A config set directory with the given files (relative path → content). */
function configSet(files: Record<string, string>): string {
  const dir = join(SCRATCH, `set-${++sets}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function run(args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}
const writeConfig = (...args: string[]) => run([WRITE_CONFIG, "--vigil", BINARY, ...args]);

function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, "r+");
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}
function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  const data = Buffer.alloc(length);
  readSync(fd, data, 0, length, offset);
  closeSync(fd);
  return data;
}

const MARKERS = [
  { offset: 2048 * 512, text: "boot-partition-marker" },
  { offset: ROOT_START * 512, text: "root-partition-marker" },
];
/** A sparse raw disk with the appliance's partition table, a 1 MiB root, and markers in partitions 1 and 3. */
function fakeImage(): string {
  const file = join(SCRATCH, `disk-${++sets}.img`);
  expect(run(["truncate", "-s", `${ROOT_START * 512 + MIB}`, file]).code).toBe(0);
  const table = `label: dos\nunit: sectors\nstart=2048, size=${64 * 2048}, type=e, bootable\nsize=${16 * 2048}, type=e\ntype=83\n`;
  const sfdisk = Bun.spawnSync(["sfdisk", "-q", file], { stdin: Buffer.from(table), stderr: "pipe" });
  expect(sfdisk.exitCode).toBe(0);
  for (const { offset, text } of MARKERS) writeAt(file, offset, Buffer.from(text));
  return file;
}

/** A file read out of a FAT file system (FILE, or FILE@@OFFSET for one inside a disk). */
function fatFile(fs: string, path: string): string {
  const r = run(["mtype", "-i", fs, `::${path}`]);
  if (r.code !== 0) throw new Error(`mtype ${fs} ::${path}: ${r.out}`);
  return r.out;
}
const fatHas = (fs: string, path: string) => run(["mdir", "-i", fs, `::${path}`]).code === 0;
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

suite("write-config.sh --drive", () => {
  test("writes a VIGILCFG drive with the set, README.txt and the example configs", () => {
    const dir = configSet({ "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=secret-1\n", "network/lan.network": NETWORK });
    const drive = join(SCRATCH, "drive.img");
    const r = writeConfig("--drive", dir, drive);
    expect(r.out).toContain("vigil.yaml: valid (standalone mode, 1 zone(s), 0 service(s))");
    expect(r.code).toBe(0);
    expect(run(["mlabel", "-i", drive, "-s", "::"]).out).toContain("VIGILCFG");
    expect(fatFile(drive, "vigil.yaml")).toBe(VALID_YAML);
    expect(fatFile(drive, "vigil.env")).toBe("API_TOKEN=secret-1\n");
    expect(fatFile(drive, "network/lan.network")).toBe(NETWORK);
    expect(fatFile(drive, "README.txt")).toContain("the config partition (VIGILCFG)");
    expect(fatHas(drive, "examples/standalone.yaml")).toBe(true);
  });

  // LISTEN feeds dns.listen_address, which must be exactly host:port: a stray \r or quote would fail.
  const listenYaml = VALID_YAML.replace('"0.0.0.0:53"', '"${LISTEN}"');
  test("reads vigil.env as systemd does: CRLF line ends, quoted values, comments", () => {
    const env = '# where DNS listens\r\nLISTEN="0.0.0.0:53"\r\n\r\nAPI_TOKEN=\'two words\'\r\n';
    const dir = configSet({ "vigil.yaml": listenYaml.replaceAll("\n", "\r\n"), "vigil.env": env });
    const r = writeConfig("--drive", dir, join(SCRATCH, "drive-crlf.img"));
    expect(r.out).toContain("vigil.yaml: valid");
    expect(r.code).toBe(0);
  });

  test("passes the values on as they are: a wrong one is refused", () => {
    const dir = configSet({ "vigil.yaml": listenYaml, "vigil.env": "API_TOKEN=a\nLISTEN=0.0.0.0\n" });
    const r = writeConfig("--drive", dir, join(SCRATCH, "drive-wrong-listen.img"));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('dns.listen_address (line 4): expected host:port, got "0.0.0.0"');
  });
});

suite("write-config.sh IMAGE", () => {
  test("replaces the config partition only, and a second set leaves nothing of the first", () => {
    const disk = fakeImage();
    const partition = `${disk}@@${CONFIG_START * 512}`;
    const first = configSet({ "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=a\n", "network/lan.network": NETWORK });
    expect(writeConfig(first, disk).code).toBe(0);
    expect(fatFile(partition, "network/lan.network")).toBe(NETWORK);

    const secondYaml = VALID_YAML.replace('"one"', '"two"');
    const second = configSet({ "vigil.yaml": secondYaml, "vigil.env": "API_TOKEN=b\n" });
    expect(writeConfig(second, disk).code).toBe(0);
    expect(fatFile(partition, "vigil.yaml")).toBe(secondYaml);
    expect(fatFile(partition, "vigil.env")).toBe("API_TOKEN=b\n");
    expect(fatHas(partition, "network/lan.network")).toBe(false);
    // The rewritten file system is consistent: no FAT entries left over from the first set.
    const copy = join(SCRATCH, `partition-${sets}.fat`);
    writeFileSync(copy, readAt(disk, CONFIG_START * 512, 16 * MIB));
    const fsck = run(["fsck.vfat", "-n", copy]);
    expect(fsck.code).toBe(0);
    for (const { offset, text } of MARKERS) expect(readAt(disk, offset, text.length).toString()).toBe(text);
  });

  test("refuses a file that is not an appliance image, and leaves it as it was", () => {
    const notImage = join(SCRATCH, "not-an-image.img");
    writeFileSync(notImage, Buffer.alloc(4 * MIB, 1));
    const before = sha256(notImage);
    const r = writeConfig(configSet({ "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=a\n" }), notImage);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("not a raw vigil appliance image");
    expect(sha256(notImage)).toBe(before);
  });
});

suite("bad config sets are refused, naming the problem, and change nothing", () => {
  const cases: { name: string; files: Record<string, string>; message: string }[] = [
    { name: "no vigil.yaml", files: { "vigil.env": "API_TOKEN=a\n" }, message: "no vigil.yaml" },
    {
      name: "an invalid value",
      files: { "vigil.yaml": VALID_YAML.replace('"0.0.0.0:53"', '"53"'), "vigil.env": "API_TOKEN=a\n" },
      message: 'dns.listen_address (line 4): expected host:port, got "53"',
    },
    { name: "a secret missing from vigil.env", files: { "vigil.yaml": VALID_YAML }, message: "API_TOKEN" },
    { name: "a vigil.env line that is not NAME=value", files: { "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN a\n" }, message: 'vigil.env line 1: expected NAME=value, got "API_TOKEN a"' },
    {
      name: "a dnssec-keys.json that vigil keys export did not write",
      files: { "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=a\n", "dnssec-keys.json": '{"zones": []}' },
      message: "dnssec-keys.json is not a file `vigil keys export` wrote",
    },
    {
      name: "a .network file without [Match]",
      files: { "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=a\n", "network/lan.network": "[Network]\nDHCP=yes\n" },
      message: "network/lan.network: no [Match] section",
    },
    {
      name: "a set too large for the config partition",
      files: { "vigil.yaml": VALID_YAML, "vigil.env": "API_TOKEN=a\n", "network/big.network": `[Match]\n${"#".repeat(13 * MIB)}\n` },
      message: "KiB: the config partition holds 12288 KiB",
    },
    {
      name: "a file that is no part of a config set (a typo)",
      files: { "vigil.yml": VALID_YAML, "vigil.env": "API_TOKEN=a\n" },
      message: "vigil.yml is no part of a config set",
    },
  ];

  for (const { name, files, message } of cases) {
    test(name, () => {
      const dir = configSet(files);
      const drive = join(SCRATCH, `refused-${sets}.img`);
      const driveRun = writeConfig("--drive", dir, drive);
      expect(driveRun.code).not.toBe(0);
      expect(driveRun.out).toContain(message);
      expect(existsSync(drive)).toBe(false);

      const disk = fakeImage();
      const before = sha256(disk);
      const imageRun = writeConfig(dir, disk);
      expect(imageRun.code).not.toBe(0);
      expect(imageRun.out).toContain(message);
      expect(sha256(disk)).toBe(before);
    });
  }
});
