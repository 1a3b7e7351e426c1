#!/bin/bash
# shellcheck source-path=SCRIPTDIR/..
# Builds the vigil appliance: a bootable raw disk image (BIOS, MBR) of a minimal Debian made from
# Debian's packages with debootstrap, the vigil binary and its units, and a config partition that makes
# one image serve every site (docs/image.md).
#
#   scripts/build-image.sh [--out FILE] [--vigil BIN] [--config DIR] [--qcow2] [--kernel PACKAGE]
#                          [--mirror URL] [--security-mirror URL]
#
#   --out FILE      the raw image (dist/vigil-appliance.img)
#   --vigil BIN     the vigil binary to install (dist/vigil, made by `npm run build` when missing;
#                   or a release binary, dist/vigil-<version>-linux-x64)
#   --config DIR    a site's config set to put on the config partition (default: none, only README.txt
#                   and examples/, and vigil stays stopped until one is written there)
#   --qcow2         also write FILE with .qcow2 for .img, compressed
#   --kernel PKG    the kernel package: linux-image-cloud-amd64 (default) has the drivers of KVM,
#                   Xen, Hyper-V, VMware (pvscsi, vmxnet3) and the clouds in a quarter of the space;
#                   linux-image-amd64 adds e1000, AHCI, LSI Logic and real hardware
#   --mirror URL    the Debian mirror (the one apt uses here), and --security-mirror URL for
#                   bookworm-security: the image gets the security updates published at build time
#
# Runs as root on Debian (it chroots into the new system to install packages). The disk is assembled
# from file system images (mkfs.ext4 -d, mkfs.vfat with mtools, syslinux) and sfdisk + dd: no loop
# devices, which a container often cannot give partitions. Downloaded packages are kept in
# $VIGIL_IMAGE_CACHE (/var/cache/vigil-image) for the next build.
set -euo pipefail
umask 022

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT_DIR/appliance/image/lib.sh"

SUITE=bookworm
# dbus: systemd-logind needs it, and logind turns the hypervisor's ACPI power button into a clean shutdown.
# procps: /bin/kill, which vigil.service's ExecReload runs.
PACKAGES=(systemd-sysv udev dbus procps iproute2 systemd-timesyncd initramfs-tools zstd)
CACHE=${VIGIL_IMAGE_CACHE:-/var/cache/vigil-image}
WORK=$ROOT_DIR/.build/image
ROOTFS=$WORK/rootfs

OUT=$ROOT_DIR/dist/vigil-appliance.img
VIGIL_BIN=$ROOT_DIR/dist/vigil
CONFIG_DIR=
QCOW2=no
KERNEL=linux-image-cloud-amd64
MIRROR=
SECURITY_MIRROR=

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) OUT=$(realpath -m "${2:?--out FILE}"); shift 2 ;;
      --vigil) VIGIL_BIN=$(realpath -m "${2:?--vigil BIN}"); shift 2 ;;
      --config) CONFIG_DIR=$(realpath -m "${2:?--config DIR}"); shift 2 ;;
      --qcow2) QCOW2=yes; shift ;;
      --kernel) KERNEL=${2:?--kernel PACKAGE}; shift 2 ;;
      --mirror) MIRROR=${2:?--mirror URL}; shift 2 ;;
      --security-mirror) SECURITY_MIRROR=${2:?--security-mirror URL}; shift 2 ;;
      *) die "unknown option $1 (see the top of $0)" ;;
    esac
  done
  [ -n "$MIRROR" ] || MIRROR=$(host_mirror debian http://deb.debian.org/debian)
  [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$(host_mirror debian-security http://deb.debian.org/debian-security)
}

# host_mirror PATH DEFAULT: the mirror this host's apt uses for PATH (debian, debian-security), so the
# build reaches what apt reaches here.
host_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    | sed -nE "s#^(URIs:|deb( \\[[^]]*\\])?) *(https?://[^ ]*/$1/?)( .*)?\$#\\3#p" | head -n1)
  echo "${uri:-$2}"
}

# Mounts made for the chroot; always undone, and checked gone before the tree becomes a file system.
chroot_mounts=()
mount_in_root() { # TARGET (inside the root) then mount's arguments before the target
  local target=$ROOTFS$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  chroot_mounts+=("$target")
}
umount_chroot() {
  local i
  for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
    umount "${chroot_mounts[$i]}" 2>/dev/null || umount -l "${chroot_mounts[$i]}" || true
  done
  chroot_mounts=()
}
# A build killed before its trap ran leaves /dev or /proc mounted in the old tree: never delete through them.
release_stale_mounts() {
  local target
  { findmnt -rno TARGET | grep -F "$WORK/" || true; } | sort -r | while IFS= read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
}
trap umount_chroot EXIT

in_root() { chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

ensure_vigil_binary() {
  [ -x "$VIGIL_BIN" ] && return 0
  [ "$VIGIL_BIN" = "$ROOT_DIR/dist/vigil" ] || die "$VIGIL_BIN: no such executable"
  log "dist/vigil missing: npm run build"
  (cd "$ROOT_DIR" && PATH="$ROOT_DIR/node_modules/.bin:$PATH" npm run build) >&2
}

bootstrap() {
  log "debootstrap $SUITE (minbase) from $MIRROR"
  release_stale_mounts
  rm -rf --one-file-system "$WORK"
  mkdir -p "$WORK" "$CACHE/debootstrap"
  debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap" "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || die "debootstrap failed: $WORK/debootstrap.log"
  # Before anything else is installed: no documentation, man pages or translations.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-vigil-appliance" <<'EOF'
# The vigil appliance has no shell users: no documentation, man pages or translations.
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
  # No daemon may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
}

install_packages() {
  log "apt-get upgrade (bookworm-updates, bookworm-security), install ${PACKAGES[*]} $KERNEL"
  cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  mount_in_root /proc -t proc proc
  mount_in_root /sys -t sysfs sys
  mount_in_root /dev --bind /dev
  # Kept outside the image, so a rebuild downloads nothing.
  mkdir -p "$CACHE/apt/partial"
  mount_in_root /var/cache/apt/archives --bind "$CACHE/apt"
  { in_root apt-get update -q && in_root apt-get upgrade -y -q &&
    in_root apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" "$KERNEL"; } >"$WORK/apt.log" 2>&1 \
    || die "apt-get failed: $WORK/apt.log"
}

install_vigil() {
  log "vigil, its units and the appliance's files"
  install -m 0755 "$VIGIL_BIN" "$ROOTFS/usr/local/bin/vigil"
  # Plain cp under umask 022: owned by root, no group or other write, whoever owns the checkout and
  # whatever its umask was; directories that exist keep their modes.
  cp -R "$IMAGE_FILES_DIR/rootfs/." "$ROOTFS/"
  install_units
  local conf
  for conf in "$ROOT_DIR"/appliance/sysctl/*.conf; do
    [ -f "$conf" ] && install -m 0644 "$conf" "$ROOTFS/etc/sysctl.d/"
  done
  in_root useradd --system --user-group --home-dir /var/lib/vigil --no-create-home --shell /usr/sbin/nologin vigil
  install -d -m 0700 "$ROOTFS/var/lib/vigil"
  in_root chown vigil:vigil /var/lib/vigil
  install -d -m 0750 "$ROOTFS/etc/vigil"
  in_root chgrp vigil /etc/vigil
  # The journal persists (10-appliance.conf) once its directory exists.
  install -d "$ROOTFS/var/log/journal"
  in_root systemctl enable vigil.service vigil-config.service systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1
  # Packages are updated by building a new image: nothing fetches package lists on its own.
  in_root systemctl disable apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
}

# appliance/systemd's units; while they do not exist yet, a minimal vigil.service of this script's
# own, so the image can be built and booted on its own.
install_units() {
  local unit found=no
  for unit in "$ROOT_DIR"/appliance/systemd/*.service; do
    [ -f "$unit" ] || continue
    install -m 0644 "$unit" "$ROOTFS/etc/systemd/system/"
    found=yes
  done
  [ "$found" = yes ] && return 0
  log "appliance/systemd has no units yet: a minimal vigil.service stands in"
  cat >"$ROOTFS/etc/systemd/system/vigil.service" <<'EOF'
[Unit]
Description=vigil DNS GSLB node (the image build's stand-in unit)
After=network-online.target
Wants=network-online.target
[Service]
User=vigil
Group=vigil
EnvironmentFile=-/etc/vigil/vigil.env
ExecStart=/usr/local/bin/vigil --config /etc/vigil/vigil.yaml
ExecReload=/bin/kill -HUP $MAINPID
AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW
ProtectSystem=strict
ReadWritePaths=/var/lib/vigil
Restart=on-failure
[Install]
WantedBy=multi-user.target
EOF
}

# What every copy of the image must make for itself, and what no appliance needs.
slim_and_generalize() {
  log "removing caches, docs and per-machine state"
  umount_chroot
  rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
  rm -rf "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/debconf/*-old \
    "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
    "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/lib/systemd/random-seed "$ROOTFS"/tmp/*
  find "$ROOTFS/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  # Empty, not absent: systemd makes a new machine id at first boot (DHCP's client id comes from it).
  : >"$ROOTFS/etc/machine-id"
  rm -f "$ROOTFS/var/lib/dbus/machine-id"
}

# The kernel and initrd go to the boot partition; the root keeps no second copy.
take_kernel() {
  local kernels=("$ROOTFS"/boot/vmlinuz-*) initrds=("$ROOTFS"/boot/initrd.img-*)
  local vmlinuz=${kernels[-1]} initrd=${initrds[-1]}
  { [ -f "$vmlinuz" ] && [ -f "$initrd" ]; } || die "no kernel or initrd in $ROOTFS/boot"
  mv "$vmlinuz" "$WORK/vmlinuz"
  mv "$initrd" "$WORK/initrd.img"
  log "kernel $(basename "$vmlinuz")"
}

make_filesystems() {
  local boot_start=2048 config_start root_mib
  config_start=$((boot_start + IMAGE_BOOT_MIB * 2048))
  log "boot partition (syslinux, kernel, initrd)"
  make_fat "$WORK/boot.fat" "$IMAGE_BOOT_MIB" "$IMAGE_BOOT_LABEL" "$boot_start"
  mcopy -i "$WORK/boot.fat" "$WORK/vmlinuz" "$WORK/initrd.img" "$IMAGE_FILES_DIR/syslinux.cfg" ::/
  syslinux --install "$WORK/boot.fat"
  log "config partition"
  make_config_fat "$WORK/config.fat" "$config_start" "$CONFIG_DIR"
  # Room for the state database, the journal (64 MiB at most) and a binary upgrade.
  root_mib=$(($(du -sm --apparent-size "$ROOTFS" | cut -f1) * 5 / 4 + 384))
  log "root file system (${root_mib} MiB)"
  [ -z "$(findmnt -rno TARGET | grep -F "$ROOTFS" || true)" ] || die "something is still mounted under $ROOTFS"
  truncate -s "${root_mib}M" "$WORK/root.ext4"
  mkfs.ext4 -q -F -L "$IMAGE_ROOT_LABEL" -m 2 -d "$ROOTFS" "$WORK/root.ext4"
  ROOT_MIB=$root_mib
}

assemble_disk() {
  local total_mib=$((1 + IMAGE_BOOT_MIB + IMAGE_CONFIG_MIB + ROOT_MIB))
  log "disk $OUT (${total_mib} MiB)"
  mkdir -p "$(dirname "$OUT")"
  rm -f "$OUT"
  truncate -s "${total_mib}M" "$OUT"
  sfdisk -q "$OUT" <<EOF
label: dos
unit: sectors
start=2048, size=$((IMAGE_BOOT_MIB * 2048)), type=e, bootable
size=$((IMAGE_CONFIG_MIB * 2048)), type=e
type=83
EOF
  # The MBR's boot code (its first 440 bytes) loads the active partition's syslinux.
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$OUT" bs=440 count=1 conv=notrunc status=none
  put_partition "$OUT" "$IMAGE_BOOT_PART" "$WORK/boot.fat" fresh
  put_partition "$OUT" "$IMAGE_CONFIG_PART" "$WORK/config.fat" fresh
  put_partition "$OUT" "$IMAGE_ROOT_PART" "$WORK/root.ext4" fresh
  # The tree stays in $WORK for a look inside; the file system images are in $OUT now.
  rm -f "$WORK/boot.fat" "$WORK/config.fat" "$WORK/root.ext4"
}

report() {
  local started=$1 qcow=${OUT%.img}.qcow2
  if [ "$QCOW2" = yes ]; then
    log "qcow2 $qcow"
    qemu-img convert -c -O qcow2 "$OUT" "$qcow"
  fi
  echo "built $OUT in $(($(date +%s) - started)) s ($("$VIGIL_BIN" version 2>/dev/null | head -n1))"
  echo "  size: $(du -h --apparent-size "$OUT" | cut -f1) ($(du -h "$OUT" | cut -f1) allocated; sparse)"
  [ "$QCOW2" = yes ] && echo "  qcow2: $qcow, $(du -h "$qcow" | cut -f1)"
  echo "  config partition: $([ -n "$CONFIG_DIR" ] && echo "$CONFIG_DIR" || echo "empty (README.txt, examples/)")"
  return 0
}

main() {
  local started
  started=$(date +%s)
  parse_args "$@"
  [ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
  # One build at a time: they share the work directory.
  mkdir -p "$(dirname "$WORK")"
  exec 8>"$WORK.lock"
  flock -n 8 || die "another build-image.sh is running (it holds $WORK.lock)"
  ensure_commands debootstrap:debootstrap mkfs.ext4:e2fsprogs mkfs.vfat:dosfstools mcopy:mtools \
    syslinux:syslinux sfdisk:fdisk
  [ -f /usr/lib/syslinux/mbr/mbr.bin ] || ensure_commands missing-mbr:syslinux-common
  [ "$QCOW2" = no ] || ensure_commands qemu-img:qemu-utils
  ensure_vigil_binary
  [ -z "$CONFIG_DIR" ] || check_config_dir "$CONFIG_DIR" "$VIGIL_BIN"
  bootstrap
  install_packages
  install_vigil
  slim_and_generalize
  take_kernel
  make_filesystems
  assemble_disk
  report "$started"
}

main "$@"
