#!/usr/bin/env bash
# test-clean-root.sh: does the release binary run on a machine with nothing else installed? Makes a
# minimal Debian root (debootstrap --variant=minbase bookworm), copies the binary in, and in a chroot
# with an empty environment checks `vigil version`, `vigil check-config`, that `vigil demo` answers
# DNS, that `vigil backup` copies its live store, that SIGTERM stops it with status 0, and that ldd
# finds every library it needs there. dig is not in that root: the DNS query goes from this host, on
# loopback, since a chroot shares the network. A script, not a CI test: debootstrap takes minutes.
#
#   sudo scripts/test-clean-root.sh [BINARY]          # BINARY defaults to dist/vigil
#
# Settings (environment):
#   CLEAN_ROOT_DIR   make the root here and keep it (default: a temp dir, removed at the end); a
#                    directory that already holds a root from an earlier run is reused as it is
#   DEBIAN_MIRROR    http://deb.debian.org/debian
#
# Needs root (debootstrap, chroot, mount), debootstrap (installed with apt-get if missing), dig.
# Everything runs in a private mount namespace, so /proc mounted in the root never outlives it.

set -euo pipefail

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=$(realpath -- "${1:-$REPO_ROOT/dist/vigil}")
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf '[clean-root] %s\n' "$*"; }
die() { printf '[clean-root] FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v from="$1" -v to="$(now)" 'BEGIN { printf "%.1f", to - from }'; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot, mount)"
[[ -x $BINARY ]] || die "$BINARY is missing: run \`npm run build\` or scripts/release.sh first"
command -v dig >/dev/null || die "dig not found (package bind9-dnsutils)"

# Re-run inside a private mount namespace: the mounts below vanish with it, whatever happens.
if [[ -z ${CLEAN_ROOT_IN_NAMESPACE:-} ]]; then
  CLEAN_ROOT_IN_NAMESPACE=1 exec unshare --mount --propagation private "$(realpath -- "$0")" "$BINARY"
fi

started=$(now)
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

if [[ -n ${CLEAN_ROOT_DIR:-} ]]; then
  root=$CLEAN_ROOT_DIR
else
  root=$(mktemp -d /var/tmp/vigil-clean-root.XXXXXX)
  trap 'umount "$root/proc" 2>/dev/null; rm -rf --one-file-system -- "$root"' EXIT
fi

if [[ -f $root/etc/debian_version ]]; then
  say "reusing the root in $root (Debian $(cat "$root/etc/debian_version"))"
else
  say "debootstrap --variant=minbase bookworm $root $DEBIAN_MIRROR"
  t=$(now)
  debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; die "debootstrap failed (log: $root.debootstrap.log)"; }
  rm -f "$root.debootstrap.log"
  say "debootstrap took $(since "$t") s; the root holds $(chroot "$root" dpkg-query -W -f '.\n' | wc -l) packages, $(du -sh --one-file-system "$root" | cut -f1)"
fi
# A running machine has /proc; the root's /dev came with debootstrap.
mount -t proc proc "$root/proc"

checks=$(now)
work=/opt/vigil
mkdir -p "$root$work"
rm -rf "${root:?}$work"/*
cp "$BINARY" "$root$work/vigil"
cat >"$root$work/small.yaml" <<'EOF'
mode: standalone
dns:
  zones: [small.test]
  nameservers: [{ name: ns1.small.test, addresses: [127.0.0.1] }]
services:
  - name: app
    backends: [{ address: 192.0.2.1 }]
EOF

# vigil ARGS in the root, from /opt/vigil, with nothing in its environment. Each step execs the
# next, so a background in_root's $! is vigil itself.
IN_ROOT=(chroot "$root" /usr/bin/env -i /bin/sh -c "cd $work && exec ./vigil \"\$@\"" vigil)
in_root() { "${IN_ROOT[@]}" "$@"; }

say "in the root: nothing but Debian minbase and $work/vigil; node_modules anywhere: $(find "$root" -xdev -name node_modules | wc -l)"
say "ldd $work/vigil (in the root):"
chroot "$root" ldd "$work/vigil" | sed 's/^/    /'
chroot "$root" ldd "$work/vigil" | grep -q "not found" && die "a library is missing in the root"

out=$(in_root version) || die "vigil version failed: $out"
say "vigil version: $out"
[[ $out =~ ^vigil\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\  ]] || die "unexpected version output"

out=$(in_root check-config small.yaml) || die "vigil check-config failed: $out"
say "vigil check-config small.yaml: $out"

t=$(now)
"${IN_ROOT[@]}" demo --listen 127.0.0.1:0 --api 127.0.0.1:0 --metrics 127.0.0.1:0 --data-dir data >"$root$work/demo.out" 2>"$root$work/demo.err" &
demo=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's/^vigil demo is ready: DNS on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$root$work/demo.out")
  [[ -n $port ]] && break
  kill -0 "$demo" 2>/dev/null || { cat "$root$work/demo.err" >&2; die "vigil demo exited"; }
  sleep 0.1
done
[[ -n $port ]] || { cat "$root$work/demo.err" >&2; die "vigil demo did not get ready within 20 s"; }
say "vigil demo ready after $(since "$t") s, DNS on 127.0.0.1:$port"

answer=$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 +norecurse +short app.demo.vigil.test A | sort | paste -sd ' ')
say "dig (from the host) app.demo.vigil.test A: $answer"
[[ $answer == "127.0.0.1 127.0.0.2" ]] || die "expected the demo's two backends"

out=$(in_root backup --data-dir data --to backup.db) || die "vigil backup failed: $out"
say "vigil backup (while the demo runs): $out"

kill -TERM "$demo"
status=0
wait "$demo" || status=$?
say "SIGTERM: vigil demo exited with status $status"
[[ $status == 0 ]] || { cat "$root$work/demo.err" >&2; die "expected exit status 0"; }

say "all checks passed: checks $(since "$checks") s, whole run $(since "$started") s"
