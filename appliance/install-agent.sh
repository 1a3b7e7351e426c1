#!/bin/sh
# Installs, or upgrades, a vigil agent on this host: the vigil user and group, /etc/vigil and
# /var/lib/vigil, the binary, an agent.yaml and vigil.env to fill in (only when there are none: an
# operator's files are never overwritten), the systemd unit, the ping sysctl, and the agent's identity
# (its id is printed at the end). Idempotent: running it again with the same binary changes nothing.
# Layout, owners and modes: appliance/README.md.
#
# usage: install-agent.sh [--binary PATH|URL] [--sha256 HEX]
set -eu
umask 022

BIN=/usr/local/bin/vigil
CONF_DIR=/etc/vigil
DATA_DIR=/var/lib/vigil
UNIT_NAME=vigil-agent.service
UNIT=/etc/systemd/system/$UNIT_NAME
SYSCTL=/etc/sysctl.d/60-vigil-ping.conf
USER_NAME=vigil

# The files to install sit beside this script, as in the source tree.
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_UNIT=$HERE/systemd/$UNIT_NAME
SRC_CONFIG=$HERE/etc/vigil/agent.yaml
SRC_ENV=$HERE/etc/vigil/vigil.env.example
SRC_SYSCTL=$HERE/sysctl/60-vigil-ping.conf

say() { echo "install-agent: $*"; }
fail() {
  echo "install-agent: error: $*" >&2
  exit 1
}
usage_error() {
  echo "install-agent: $*" >&2
  echo "usage: $0 [--binary PATH|URL] [--sha256 HEX]" >&2
  exit 2
}

source_binary=""
want_sha256=""
while [ $# -gt 0 ]; do
  case $1 in
    --binary) [ $# -ge 2 ] || usage_error "--binary needs a path or URL"; source_binary=$2; shift 2 ;;
    --binary=*) source_binary=${1#*=}; shift ;;
    --sha256) [ $# -ge 2 ] || usage_error "--sha256 needs a value"; want_sha256=$2; shift 2 ;;
    --sha256=*) want_sha256=${1#*=}; shift ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) usage_error "unexpected argument \"$1\"" ;;
  esac
done

want_sha256=$(printf '%s' "$want_sha256" | tr 'A-F' 'a-f')
if [ -n "$want_sha256" ] && ! printf '%s' "$want_sha256" | grep -Eq '^[0-9a-f]{64}$'; then
  usage_error "--sha256 must be 64 hex digits, got \"$want_sha256\""
fi
[ -z "$want_sha256" ] || [ -n "$source_binary" ] || usage_error "--sha256 checks a --binary: give both"
case $source_binary in
  http://* | https://*) [ -n "$want_sha256" ] || usage_error "--sha256 is required with a URL: a download is never installed unchecked" ;;
  "") [ -x "$BIN" ] || usage_error "no --binary given and $BIN is not installed" ;;
  *) [ -f "$source_binary" ] || fail "--binary $source_binary: no such file" ;;
esac
[ "$(id -u)" -eq 0 ] || fail "run as root: it creates a system user and writes under /etc, /usr/local and /var/lib"
for f in "$SRC_UNIT" "$SRC_CONFIG" "$SRC_ENV" "$SRC_SYSCTL"; do
  [ -f "$f" ] || fail "$f is missing: run the script from vigil's appliance/ directory, with its files beside it"
done

staged=""
download_dir=""
trap 'rm -rf ${staged:+"$staged"} ${download_dir:+"$download_dir"}' EXIT
trap 'exit 1' HUP INT TERM

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
parent_dir() { [ -d "$(dirname "$1")" ] || install -d -m 0755 "$(dirname "$1")"; }

# Creates a directory, or corrects its mode and owner; touches nothing that is already right.
ensure_dir() { # PATH MODE OWNER GROUP
  if [ ! -d "$1" ]; then
    install -d -m "$2" -o "$3" -g "$4" "$1"
    say "created $1 ($2 $3:$4)"
  elif [ "$(stat -c '%a %U %G' "$1")" != "${2#0} $3 $4" ]; then
    chmod "$2" "$1"
    chown "$3:$4" "$1"
    say "corrected $1 to $2 $3:$4"
  fi
}

# A file the operator edits: installed only when there is none; sets fresh=yes when it was.
fresh=""
install_once() { # SOURCE DEST MODE OWNER GROUP
  if [ -e "$2" ] || [ -L "$2" ]; then
    say "kept $2 (exists)"
  else
    install -m "$3" -o "$4" -g "$5" "$1" "$2"
    fresh=yes
    say "installed $2 ($3 $4:$5): fill it in"
  fi
}

# A file of ours: replaced when it differs; sets replaced=yes when it did.
install_ours() { # SOURCE DEST
  replaced=""
  if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c '%a %U %G' "$2")" = "644 root root" ]; then
    return 0
  fi
  parent_dir "$2"
  install -m 0644 -o root -g root "$1" "$2"
  replaced=yes
  say "installed $2"
}

# --- binary, first: fetched and checked before anything on the system changes ---
# Staged beside its destination, so the final rename is atomic even while the old binary runs.
binary_changed=""
if [ -n "$source_binary" ]; then
  candidate=$source_binary
  case $source_binary in
    http://* | https://*)
      download_dir=$(mktemp -d)
      candidate=$download_dir/vigil
      if command -v curl >/dev/null; then
        curl --fail --silent --show-error --location --output "$candidate" "$source_binary" || fail "cannot download $source_binary"
      elif command -v wget >/dev/null; then
        wget --quiet --output-document="$candidate" "$source_binary" || fail "cannot download $source_binary"
      else
        fail "cannot download $source_binary: neither curl nor wget is installed"
      fi
      ;;
  esac
  got_sha256=$(sha256_of "$candidate")
  if [ -n "$want_sha256" ] && [ "$got_sha256" != "$want_sha256" ]; then
    fail "$source_binary has SHA256 $got_sha256, not $want_sha256: nothing installed"
  fi
  # The same bytes already installed: nothing to do, not even a temporary file.
  if [ ! -f "$BIN" ] || [ "$(sha256_of "$BIN")" != "$got_sha256" ]; then
    parent_dir "$BIN"
    staged=$(mktemp "$BIN.new.XXXXXX")
    cp "$candidate" "$staged"
    chmod 0755 "$staged"
    # Runs on this machine, and is new enough to make the agent's identity below.
    "$staged" agent-id --help >/dev/null 2>&1 ||
      fail "$source_binary does not run here, or is too old for this installer (\`vigil agent-id --help\` failed): nothing installed"
  fi
fi

# --- user and group ---
if ! getent group "$USER_NAME" >/dev/null; then
  groupadd --system "$USER_NAME"
  say "created group $USER_NAME"
fi
if ! getent passwd "$USER_NAME" >/dev/null; then
  nologin=$(command -v nologin || echo /usr/sbin/nologin)
  useradd --system --gid "$USER_NAME" --home-dir "$DATA_DIR" --no-create-home --shell "$nologin" \
    --comment "vigil DNS GSLB" "$USER_NAME"
  say "created user $USER_NAME"
fi

# --- directories: the config readable by the service, the state by the service alone ---
ensure_dir "$CONF_DIR" 0750 root "$USER_NAME"
ensure_dir "$DATA_DIR" 0700 "$USER_NAME" "$USER_NAME"

if [ -n "$staged" ]; then
  mv -f "$staged" "$BIN"
  staged=""
  binary_changed=yes
  say "installed $BIN ($("$BIN" version))"
fi

# --- configuration: never overwrites what is there ---
install_once "$SRC_CONFIG" "$CONF_DIR/agent.yaml" 0640 root "$USER_NAME"
install_once "$SRC_ENV" "$CONF_DIR/vigil.env" 0600 root root

# --- unit and sysctl ---
install_ours "$SRC_UNIT" "$UNIT"
unit_changed=$replaced
install_ours "$SRC_SYSCTL" "$SYSCTL"
if ! { command -v sysctl >/dev/null && sysctl -q -p "$SYSCTL" 2>/dev/null; }; then
  say "warning: could not apply $SYSCTL now (read-only /proc/sys?); it applies at the next boot"
fi

# --- identity: made as the agent would at its first start, owned by the vigil user ---
agent_id=$("$BIN" agent-id --data-dir "$DATA_DIR") || fail "cannot make the agent identity in $DATA_DIR"

# --- systemd, when it is the running init ---
if [ -d /run/systemd/system ]; then
  [ -z "$unit_changed" ] || systemctl daemon-reload
  if ! systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null; then
    systemctl enable --quiet "$UNIT_NAME"
    say "enabled $UNIT_NAME"
  fi
  if [ -n "$binary_changed$unit_changed" ] && systemctl is-active --quiet "$UNIT_NAME"; then
    systemctl restart "$UNIT_NAME"
    say "restarted $UNIT_NAME on the new binary or unit"
  fi
  start_hint="systemctl start $UNIT_NAME"
else
  say "systemd is not running here: the unit is installed but not enabled"
  start_hint="systemctl enable --now $UNIT_NAME (once systemd runs)"
fi

say "agent id $agent_id (the overwatches pin its key on first contact)"
[ -z "$fresh" ] || say "next: fill in $CONF_DIR/agent.yaml and $CONF_DIR/vigil.env, then: $start_hint"
