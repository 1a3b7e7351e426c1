#!/bin/bash
# shellcheck source-path=SCRIPTDIR/..
# Boots the appliance image in qemu and checks, from outside as an operator would, that:
#   1. the config partition's config is applied at first boot: DNS answers over UDP and TCP with
#      signed records of that config, the API takes the token from its vigil.env, and the node signs
#      with the DNSSEC keys of its dnssec-keys.json (exported from a node run here), not new ones;
#   2. a config change reaches the running node: a config drive (VIGILCFG) attached to the running VM,
#      as a hypervisor attaches a disk, is applied and vigil reloads: DNS answers with the new records;
#   3. a bad config drive is refused and the node keeps serving the config it had;
#   4. the change outlived a shutdown: it was saved on the config partition, so after an ACPI power-off
#      and a new boot without the drive the node answers with it.
#
#   scripts/boot-image-test.sh [IMAGE]        (dist/vigil-appliance.img; never modified: a copy boots)
#
# VIGIL_QEMU_ACCEL=auto|kvm|tcg (auto: KVM when /dev/kvm works, else software emulation);
# VIGIL_BOOT_TIMEOUT seconds for one boot to answer DNS (600); VIGIL_BOOT_TEST_KEEP=1 keeps the work
# directory with the guest's console log (kept anyway on failure). Runs as root: qemu and every probe run
# in a network namespace of their own that has nothing but loopback, so the guest can reach no
# address outside this machine. (qemu's restrict=on would say the same, but libslirp then drops every
# UDP datagram the guest sends, the DNS answers to forwarded queries too.) Prints timings; exits
# non-zero on the first failed check, and always stops qemu.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT_DIR/appliance/image/lib.sh"

IMAGE=$(realpath -m "${1:-$ROOT_DIR/dist/vigil-appliance.img}")
ACCEL=${VIGIL_QEMU_ACCEL:-auto}
BOOT_TIMEOUT=${VIGIL_BOOT_TIMEOUT:-600}
VIGIL_BIN=$ROOT_DIR/dist/vigil
# Inside the private namespace every port is free; these are the host ends of the forwards.
DNS_PORT=5353
API_PORT=8080
ZONE=appliance.test
TOKEN=boot-test-$RANDOM$RANDOM

TMP=
QEMU_PID=
FAILED=yes
# Each qemu start writes its own console log: serial-1.log, serial-2.log...
STARTS=0
SERIAL=/dev/null

# --- checks and waiting -------------------------------------------------------------------------

PASSED=0
pass() {
  PASSED=$((PASSED + 1))
  echo "ok   $*"
}
fail() {
  echo "FAIL $*"
  echo "boot-image-test: $PASSED passed, 1 failed"
  exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds; fails after SECONDS, or at
# once when qemu has exited. Sets WAITED to the seconds it took.
wait_for() {
  local limit=$1 what=$2 started
  shift 2
  started=$(date +%s)
  until "$@"; do
    qemu_healthy || fail "$what: qemu stopped ($(grep -v warning "$TMP/qemu.err" 2>/dev/null | head -n 3 | tr '\n' ' '))"
    [ $(($(date +%s) - started)) -lt "$limit" ] || fail "$what: not within ${limit} s"
    sleep 1
  done
  WAITED=$(($(date +%s) - started))
}

txt_is() { # EXPECTED [dig options]: the TXT record of probe.ZONE is EXPECTED
  local want=$1
  shift
  [ "$(dig @127.0.0.1 -p "$DNS_PORT" "probe.$ZONE" TXT +short +time=1 +tries=1 "$@" 2>/dev/null)" = "\"$want\"" ]
}

serial_has() { grep -aqF "$1" "$SERIAL" 2>/dev/null; }

api() { # METHOD PATH [curl options]: prints the status code, the body goes to $TMP/body
  local method=$1 path=$2
  shift 2
  curl -s -m 10 -o "$TMP/body" -w '%{http_code}' -X "$method" "$@" "http://127.0.0.1:$API_PORT$path"
}

expect_api() { # STATUS BODY_PART METHOD PATH [curl options]
  local status=$1 part=$2 got
  shift 2
  got=$(api "$@")
  { [ "$got" = "$status" ] && grep -qF "$part" "$TMP/body"; } \
    || fail "$1 $2: expected $status with $part, got $got $(head -c 300 "$TMP/body")"
  pass "$1 $2 -> $status ($part)"
}

# --- qemu ---------------------------------------------------------------------------------------

qemu_running() { [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; }

# KVM that cannot run this guest (nested KVM lacking a feature) either exits at once or stops the VM
# with an internal error and waits: either way the boot is over.
qemu_healthy() { qemu_running && ! grep -qE 'KVM internal error' "$TMP/qemu.err"; }

stop_qemu() {
  qemu_running || return 0
  kill "$QEMU_PID" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do qemu_running || return 0; sleep 0.5; done
  kill -9 "$QEMU_PID" 2>/dev/null || true
}

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# start_qemu ACCEL: boots the test disk; the monitor is a pair of pipes (monitor command below).
start_qemu() {
  STARTS=$((STARTS + 1))
  SERIAL=$TMP/serial-$STARTS.log
  rm -f "$TMP/qemu.err" "$TMP/mon.in" "$TMP/mon.out"
  mkfifo "$TMP/mon.in" "$TMP/mon.out"
  qemu-system-x86_64 -machine pc -accel "$1" -cpu max -smp 2 -m 1024 -display none \
    -serial "file:$SERIAL" -monitor "pipe:$TMP/mon" \
    -drive "file=$TMP/disk.img,format=raw,if=virtio" \
    -netdev "user,id=net0,hostfwd=udp:127.0.0.1:$DNS_PORT-:53,hostfwd=tcp:127.0.0.1:$DNS_PORT-:53,hostfwd=tcp:127.0.0.1:$API_PORT-:8080" \
    -device virtio-net-pci,netdev=net0 \
    2>"$TMP/qemu.err" &
  QEMU_PID=$!
  # Watched with kill -0, not wait: disowned so bash does not report a KVM abort as a crash of its own.
  disown "$QEMU_PID"
  # Drained all along, so qemu never blocks on a full monitor pipe.
  cat "$TMP/mon.out" >>"$TMP/monitor.log" &
}

monitor() { echo "$*" >"$TMP/mon.in"; }

# boot EXPECTED_TXT: starts qemu and waits until DNS answers; KVM that fails gives way to TCG.
boot() {
  local accel=$ACCEL started
  if [ "$accel" = auto ]; then
    if kvm_usable; then accel=kvm; else accel=tcg; fi
  fi
  started=$(date +%s)
  start_qemu "$accel"
  if [ "$accel" = kvm ] && [ "$ACCEL" = auto ]; then
    # Under KVM the appliance's first console line comes within seconds, or KVM has failed.
    for _ in $(seq 1 60); do
      qemu_healthy || break
      serial_has vigil-config && break
      sleep 1
    done
    if ! qemu_healthy; then
      echo "note KVM cannot run this guest here ($(grep -v warning "$TMP/qemu.err" | head -n1)): software emulation (TCG) instead"
      stop_qemu
      ACCEL=tcg accel=tcg
      start_qemu tcg
    fi
  fi
  BOOT_ACCEL=$accel
  wait_for "$BOOT_TIMEOUT" "boot ($accel) until DNS answers \"$1\"" txt_is "$1"
  BOOT_SECONDS=$(($(date +%s) - started))
}

power_off() {
  local started
  started=$(date +%s)
  monitor system_powerdown
  for _ in $(seq 1 180); do qemu_running || break; sleep 1; done
  qemu_running && fail "the guest did not power off within 180 s of the ACPI power button"
  QEMU_PID=
  # The kernel's last words after systemd stopped everything and unmounted the file systems.
  serial_has "reboot: Power down" || fail "qemu exited without the guest's power-down message"
  pass "ACPI power button: clean shutdown in $(($(date +%s) - started)) s"
}

# attach_drive ID FILE: hot-plugs FILE as a virtio disk, as a hypervisor attaches a disk to a running VM.
attach_drive() {
  monitor "drive_add 0 if=none,id=$1,file=$2,format=raw,readonly=on"
  monitor "device_add virtio-blk-pci,drive=$1,id=dev-$1"
}

# --- the config sets ----------------------------------------------------------------------------

# config_set DIR TXT NODE: a standalone node serving ZONE with probe.ZONE TXT "TXT", its API on all
# guest addresses for the user-mode network and loopback, the token in vigil.env.
config_set() {
  mkdir -p "$1"
  cat >"$1/vigil.yaml" <<EOF
identity:
  node_id: $3
dns:
  listen_address: "0.0.0.0:53"
  zones: [$ZONE]
  nameservers:
    - { name: ns1.$ZONE, addresses: [10.0.2.15] }
  records: |
    probe 5 IN TXT "$2"
api:
  address: "0.0.0.0:8080"
  allowed_networks: [10.0.2.0/24, 127.0.0.0/8]
  token: "\${API_TOKEN}"
EOF
  echo "API_TOKEN=$TOKEN" >"$1/vigil.env"
}

# make_dnssec_keys DIR: runs a vigil on this side (in the namespace) until it has made the zone's
# keys, then exports them into DIR/dnssec-keys.json, as an operator moving a zone to a new appliance
# would. EXPECTED_DS is its DS record: the appliance must serve the same after importing the file.
make_dnssec_keys() {
  local node=$TMP/keys-node started pid
  mkdir -p "$node"
  printf '%s\n' 'dns:' '  listen_address: "127.0.0.1:5399"' "  zones: [$ZONE]" \
    'api:' '  enabled: false' 'metrics:' '  enabled: false' "data_dir: $node/data" >"$node/vigil.yaml"
  "$VIGIL_BIN" --config "$node/vigil.yaml" >"$node/log" 2>&1 &
  pid=$!
  started=$(date +%s)
  # It answers once its keys are made. Not `vigil keys` meanwhile: two processes creating one new
  # database at once can make the node's start fail (a race in the store's migrations).
  until dig @127.0.0.1 -p 5399 "$ZONE" SOA +short +time=1 +tries=1 2>/dev/null | grep -q .; do
    kill -0 "$pid" 2>/dev/null || fail "the key-making node exited: $(tail -n 3 "$node/log")"
    [ $(($(date +%s) - started)) -lt 60 ] || fail "the key-making node did not answer within 60 s"
    sleep 0.5
  done
  kill "$pid"
  wait "$pid" || true
  EXPECTED_DS=$("$VIGIL_BIN" keys ds "$ZONE" --config "$node/vigil.yaml" | grep -m1 -E '[[:space:]]DS[[:space:]]') \
    || fail "the key-making node left no DS record"
  "$VIGIL_BIN" keys export "$ZONE" --out "$1/dnssec-keys.json" --config "$node/vigil.yaml" >/dev/null
}

prepare() {
  log "copying $IMAGE"
  cp --sparse=always "$IMAGE" "$TMP/disk.img"
  config_set "$TMP/site-1" config-1 appliance-test-1
  make_dnssec_keys "$TMP/site-1"
  config_set "$TMP/site-2" config-2 appliance-test-2
  "$ROOT_DIR/appliance/image/write-config.sh" --vigil "$VIGIL_BIN" "$TMP/site-1" "$TMP/disk.img" >/dev/null
  "$ROOT_DIR/appliance/image/write-config.sh" --vigil "$VIGIL_BIN" --drive "$TMP/site-2" "$TMP/drive-2.img" >/dev/null
  # A drive write-config.sh would refuse, made by hand: the appliance must refuse it as well.
  config_set "$TMP/bad" config-bad appliance-test-bad
  sed -i 's/listen_address: "0.0.0.0:53"/listen_address: "53"/' "$TMP/bad/vigil.yaml"
  make_config_fat "$TMP/drive-bad.img" 0 "$TMP/bad"
}

# --- the test -----------------------------------------------------------------------------------

first_boot() {
  boot config-1
  pass "first boot ($BOOT_ACCEL): DNS over UDP answers config-1 after $BOOT_SECONDS s"
  FIRST_BOOT_SECONDS=$BOOT_SECONDS
  txt_is config-1 +tcp || fail "DNS over TCP does not answer config-1"
  pass "DNS over TCP answers config-1"
  dig @127.0.0.1 -p "$DNS_PORT" "probe.$ZONE" TXT +dnssec +time=2 +tries=1 | grep -qE 'RRSIG[[:space:]]+TXT' \
    || fail "the answer is not signed (no RRSIG with +dnssec)"
  pass "the answer carries an RRSIG (DNSSEC on)"
  serial_has "vigil-config: config from /dev/vda2 in place" || fail "no 'config in place' line on the console"
  pass "console: vigil-config applied the config partition"
  expect_api 200 '"status":"ok"' GET /api/v1/health
  expect_api 200 '"node_id":"appliance-test-1"' GET /api/v1/config
  expect_api 200 "\"ds_record\":\"$EXPECTED_DS\"" GET /api/v1/dnssec/ds
  expect_api 401 error POST /api/v1/reload
  expect_api 200 '"ok":true' POST /api/v1/reload -H "Authorization: Bearer $TOKEN"
}

live_change() {
  local started
  started=$(date +%s)
  attach_drive cfg2 "$TMP/drive-2.img"
  wait_for 180 "config drive: DNS answers config-2" txt_is config-2
  pass "config drive attached: DNS answers config-2 after $WAITED s"
  LIVE_SECONDS=$WAITED
  wait_for 30 "console line of the drive" serial_has "vigil-config: config from drive /dev/vdb applied and saved on /dev/vda2; vigil reloaded"
  pass "console: applied from vdb, saved on the config partition, vigil reloaded (not restarted)"
  expect_api 200 '"node_id":"appliance-test-2"' GET /api/v1/config

  attach_drive cfgbad "$TMP/drive-bad.img"
  wait_for 180 "bad config drive refused" serial_has "vigil-config: config drive /dev/vdc refused: the running config stays"
  pass "bad config drive refused on the console: $(grep -a -m1 'listen_address' "$SERIAL" | sed 's/^\[[^]]*\] //' || true)"
  txt_is config-2 || fail "after the bad drive DNS no longer answers config-2"
  pass "DNS still answers config-2"
}

after_reboot() {
  power_off
  local offset
  offset=$(($(partition_field "$TMP/disk.img" "$IMAGE_CONFIG_PART" start) * 512))
  mtype -i "$TMP/disk.img@@$offset" ::vigil.yaml | grep -q 'TXT "config-2"' \
    || fail "the config partition does not hold the drive's config"
  pass "the config partition now holds config-2"
  boot config-2
  pass "second boot without the drive: DNS answers config-2 after $BOOT_SECONDS s"
  SECOND_BOOT_SECONDS=$BOOT_SECONDS
}

cleanup() {
  stop_qemu
  jobs -p | xargs -r kill 2>/dev/null || true
  [ -n "$TMP" ] || return 0
  if [ "$FAILED" = yes ]; then
    echo "--- last lines of the serial console ($SERIAL, kept) ---"
    tail -n 40 "$SERIAL" 2>/dev/null | sed 's/\r$//' || true
  elif [ "${VIGIL_BOOT_TEST_KEEP:-}" = 1 ]; then
    echo "kept $TMP (serial-N.log: the console of each boot)"
  else
    rm -rf "$TMP"
  fi
}

in_namespace() {
  ip link set lo up
  # Nothing but loopback: no route leads out of this namespace.
  [ -z "$(ip -o link show | grep -v ': lo:' || true)" ] || fail "the namespace has an interface besides lo"
  [ -z "$(ip route show)" ] || fail "the namespace has a route"
  TMP=$(mktemp -d /tmp/vigil-boot-test.XXXXXX)
  trap cleanup EXIT
  local started
  started=$(date +%s)
  prepare
  first_boot
  live_change
  after_reboot
  FAILED=no
  echo
  echo "passed in $(($(date +%s) - started)) s with $BOOT_ACCEL: boot to DNS $FIRST_BOOT_SECONDS s," \
    "config drive to new answers $LIVE_SECONDS s, second boot $SECOND_BOOT_SECONDS s"
  echo "boot-image-test: $PASSED passed, 0 failed"
}

main() {
  if [ "${VIGIL_BOOT_TEST_NETNS:-}" = 1 ]; then
    in_namespace
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "run as root (a network namespace of its own, and /dev/kvm)"
  [ -f "$IMAGE" ] || die "$IMAGE: no such image (scripts/build-image.sh builds it)"
  [ -x "$VIGIL_BIN" ] || die "no $VIGIL_BIN to check the test configs with (npm run build)"
  # Installed before entering the namespace, where no package mirror is reachable.
  ensure_commands qemu-system-x86_64:qemu-system-x86 dig:bind9-dnsutils curl:curl mcopy:mtools \
    mkfs.vfat:dosfstools sfdisk:fdisk unshare:util-linux ip:iproute2
  VIGIL_BOOT_TEST_NETNS=1 exec unshare --net -- "$0" "$IMAGE"
}

main "$@"
