# shellcheck shell=bash
# Shell helpers shared by scripts/build-image.sh, scripts/boot-image-test.sh and
# appliance/image/write-config.sh. Sourced, never run. Everything here works on plain files: no loop
# devices and no mounts, so the disk can be assembled where losetup -P finds no partitions.

# The disk layout (MBR, 1 MiB aligned). The root partition comes last so a later version can grow it
# into a larger virtual disk without moving anything.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly IMAGE_BOOT_PART=1 IMAGE_CONFIG_PART=2 IMAGE_ROOT_PART=3
# shellcheck disable=SC2034
readonly IMAGE_BOOT_MIB=64 IMAGE_CONFIG_MIB=16
# shellcheck disable=SC2034
readonly IMAGE_BOOT_LABEL=VIGILBOOT IMAGE_CONFIG_LABEL=VIGILCFG IMAGE_ROOT_LABEL=vigil-root

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_commands cmd:package ...: installs (apt-get, as root) the packages of the missing commands.
ensure_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# make_fat FILE MIB LABEL HIDDEN_SECTORS: a fresh FAT16 file system in FILE. HIDDEN_SECTORS is the
# partition's start, which the FAT boot sector records and syslinux relies on.
make_fat() {
  rm -f "$1"
  mkfs.vfat -C -F 16 -n "$3" -h "$4" "$1" $(($2 * 1024)) >/dev/null
}

# partition_field IMAGE N start|size: a partition's start or size in 512-byte sectors, from its table.
partition_field() {
  sfdisk --dump "$1" 2>/dev/null | sed -nE "s/^[^ ]*[^0-9]$2 :.*[ ,]$3= *([0-9]+).*/\1/p"
}

# put_partition IMAGE N FILE [fresh]: writes the file system in FILE over partition N, which it must fit.
# "fresh" says the partition holds only zeros (a new image), so zero blocks are skipped and stay holes
# in the image file; over an old file system they must be written, or stale FAT entries would remain.
put_partition() {
  local start size bytes sparse=
  [ "${4:-}" = fresh ] && sparse=,sparse
  start=$(partition_field "$1" "$2" start)
  size=$(partition_field "$1" "$2" size)
  { [ -n "$start" ] && [ -n "$size" ]; } || die "$1 has no partition $2"
  bytes=$(stat -c %s "$3")
  [ "$bytes" -le $((size * 512)) ] || die "$3 ($bytes bytes) does not fit partition $2 of $1 ($((size * 512)) bytes)"
  dd if="$3" of="$1" bs=1M seek=$((start * 512)) oflag=seek_bytes conv=notrunc$sparse status=none \
    || die "cannot write partition $2 of $1"
}

IMAGE_FILES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly IMAGE_FILES_DIR
readonly APPLY_CONFIG="$IMAGE_FILES_DIR/rootfs/usr/local/lib/vigil/apply-config"
# mtools refuses FAT images whose geometry looks odd to it; ours are made by mkfs.vfat.
export MTOOLS_SKIP_CHECK=1

# check_config_dir DIR VIGIL_BIN: the check the appliance itself makes (apply-config check), run here
# so a bad config is refused before it reaches an image. Also refuses files that are no part of a
# config set, which on the appliance would be ignored in silence (vigil.yml, say).
check_config_dir() {
  local dir=$1 f rel
  [ -d "$dir" ] || die "$dir is not a directory"
  while IFS= read -r f; do
    rel=${f#"$dir"/}
    case "$rel" in
      vigil.yaml | vigil.env | dnssec-keys.json | network/*.network) ;;
      *) die "$f is no part of a config set (vigil.yaml, vigil.env, dnssec-keys.json, network/*.network)" ;;
    esac
  done < <(find "$dir" -mindepth 1 -type f)
  [ -x "$2" ] || die "no vigil binary at $2 to check the config with (npm run build makes dist/vigil)"
  VIGIL_BIN=$2 "$APPLY_CONFIG" check "$dir" || die "$dir: not a valid config set (see above)"
}

# make_config_fat FILE HIDDEN_SECTORS [DIR]: a VIGILCFG file system holding README.txt, examples/ (from
# appliance/etc/vigil when present) and, given DIR (checked already), its config set.
make_config_fat() {
  local out=$1 dir=${3:-} examples="$IMAGE_FILES_DIR/../etc/vigil" f
  make_fat "$out" "$IMAGE_CONFIG_MIB" "$IMAGE_CONFIG_LABEL" "$2"
  mcopy -i "$out" "$IMAGE_FILES_DIR/config-README.txt" ::README.txt
  if compgen -G "$examples/*" >/dev/null; then
    mmd -i "$out" ::examples
    mcopy -i "$out" "$examples"/* ::examples/
  fi
  [ -n "$dir" ] || return 0
  for f in vigil.yaml vigil.env dnssec-keys.json; do
    [ -f "$dir/$f" ] && mcopy -i "$out" "$dir/$f" "::$f"
  done
  if compgen -G "$dir/network/*.network" >/dev/null; then
    mmd -i "$out" ::network
    mcopy -i "$out" "$dir"/network/*.network ::network/
  fi
  return 0
}
