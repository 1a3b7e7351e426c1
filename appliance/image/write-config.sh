#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Puts a site's config set onto an appliance: a directory holding vigil.yaml and, optionally, vigil.env,
# dnssec-keys.json and network/*.network (docs/image.md). The set is checked first, as the appliance
# checks it, so a bad config never reaches an image.
#
#   write-config.sh [--vigil BIN] DIR IMAGE        replace the config partition of a raw IMAGE
#                                                  (an appliance that is off); it takes effect at boot
#   write-config.sh [--vigil BIN] --drive DIR FILE make FILE, a 16 MiB config drive: attach it to a
#                                                  running appliance and the config is applied at once
#
# BIN is the vigil binary that checks the config (dist/vigil by default). Needs mtools, dosfstools
# and fdisk (sfdisk); no root, no loop devices.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

usage() { die "usage: $0 [--vigil BIN] DIR IMAGE | [--vigil BIN] --drive DIR FILE"; }

main() {
  local vigil="$HERE/../../dist/vigil" drive=no dir out
  while [ $# -gt 0 ]; do
    case "$1" in
      --vigil) vigil=${2:-}; shift 2 || usage ;;
      --drive) drive=yes; shift ;;
      -h | --help) usage ;;
      *) break ;;
    esac
  done
  [ $# -eq 2 ] || usage
  dir=$1 out=$2
  ensure_commands mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk
  check_config_dir "$dir" "$(realpath -m "$vigil")"
  if [ "$drive" = yes ]; then
    make_config_fat "$out" 0 "$dir"
    log "wrote config drive $out"
    return 0
  fi
  [ -f "$out" ] || die "$out: no such image"
  # Only a raw image can be written in place (qemu-img convert makes one from a qcow2).
  [ "$(partition_field "$out" "$IMAGE_CONFIG_PART" size)" = $((IMAGE_CONFIG_MIB * 2048)) ] \
    || die "$out has no ${IMAGE_CONFIG_MIB} MiB partition $IMAGE_CONFIG_PART: not a raw vigil appliance image"
  FAT_TMP=$(mktemp)
  trap 'rm -f "$FAT_TMP"' EXIT
  make_config_fat "$FAT_TMP" "$(partition_field "$out" "$IMAGE_CONFIG_PART" start)" "$dir"
  put_partition "$out" "$IMAGE_CONFIG_PART" "$FAT_TMP"
  log "wrote the config partition of $out"
}

main "$@"
