#!/usr/bin/env bash
# measure-release.sh: the release binary's figures for docs/release.md: its size; the time from
# exec to the first answered DNS query (median of several runs, both a first start on an empty
# data_dir, which generates the DNSSEC keys, and a restart on the data kept); its resident memory
# after idling; and its peak resident memory (VmHWM) under scripts/bench-dns.sh's positive scenario.
#
#   scripts/measure-release.sh [BINARY]        # BINARY defaults to dist/vigil-<version>-linux-x64
#
# Settings (environment):
#   MEASURE_RUNS      start-up runs of each kind (15)
#   MEASURE_IDLE      seconds the node idles before its memory is read (10)
#   MEASURE_BENCH     yes: also run the DNS benchmark and sample VmHWM (yes)
#   MEASURE_SCENARIOS bench-dns.sh scenarios for the memory figure ("positive")
#
# The node runs a small config (one zone, one service with two static backends, DNSSEC on by
# default), all on 127.0.0.1. The start-up time is measured from just before exec to the first dig
# that gets an answer; dig runs back to back, so the resolution is one dig (a few ms).

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$SCRIPT_DIR/bench/lib.sh" # now_us, free_port
# shellcheck disable=SC2034 # free_port's record of the ports it handed out
CLAIMED_PORTS=()

MEASURE_RUNS=${MEASURE_RUNS:-15}
MEASURE_IDLE=${MEASURE_IDLE:-10}
MEASURE_BENCH=${MEASURE_BENCH:-yes}
MEASURE_SCENARIOS=${MEASURE_SCENARIOS:-positive}
version=$(node_modules/.bin/bun -e 'console.log(require("./package.json").version)')
BINARY=$(realpath -- "${1:-dist/vigil-$version-linux-x64}")
[[ -x $BINARY ]] || { echo "measure: $BINARY is missing: run scripts/release.sh first" >&2; exit 1; }

work=$(mktemp -d /tmp/vigil-measure.XXXXXX)
node_pid=
cleanup() {
  [[ -n $node_pid ]] && kill -TERM "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf -- "$work"
}
trap cleanup EXIT

port=$(free_port 15300)
cat >"$work/vigil.yaml" <<EOF
mode: standalone
identity: { node_id: measure }
dns:
  listen_address: "127.0.0.1:$port"
  zones: [measure.test]
  nameservers: [{ name: ns1.measure.test, addresses: [127.0.0.1] }]
data_dir: $work/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: warn, format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
EOF

answers() { dig @127.0.0.1 -p "$port" measure.test SOA +short +norec +time=1 +tries=1 2>/dev/null | grep -v '^;' >/dev/null; }

# Starts the node, waits for its first answer; sets node_pid and prints the milliseconds it took.
start_and_time() {
  local t0 t1
  t0=$(now_us)
  "$BINARY" --config "$work/vigil.yaml" >/dev/null 2>>"$work/vigil.err" &
  node_pid=$!
  until answers; do
    kill -0 "$node_pid" 2>/dev/null || { tail -n 5 "$work/vigil.err" >&2; return 1; }
  done
  t1=$(now_us)
  awk -v us=$((t1 - t0)) 'BEGIN { printf "%.0f\n", us / 1000 }'
}

stop_node() {
  kill -TERM "$node_pid"
  wait "$node_pid" || { echo "measure: vigil exited non-zero on SIGTERM" >&2; return 1; }
  node_pid=
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

printf 'binary      %s\n' "$BINARY"
printf 'version     %s\n' "$("$BINARY" version)"
printf 'size        %s bytes (%s MiB)\n' "$(stat -c %s "$BINARY")" "$(awk -v b="$(stat -c %s "$BINARY")" 'BEGIN { printf "%.1f", b / 1048576 }')"
printf 'machine     %s, %s cores, Linux %s, load average %s\n' "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"

for kind in first restart; do
  : >"$work/$kind.ms"
  for _ in $(seq "$MEASURE_RUNS"); do
    [[ $kind == first ]] && rm -rf "$work/data"
    start_and_time >>"$work/$kind.ms"
    stop_node
  done
done
printf 'start-up to first DNS answer, first start (new data_dir, keys generated): median %s ms (range %s, %s runs)\n' \
  "$(median <"$work/first.ms")" "$(minmax <"$work/first.ms")" "$MEASURE_RUNS"
printf 'start-up to first DNS answer, restart (data_dir kept):                    median %s ms (range %s, %s runs)\n' \
  "$(median <"$work/restart.ms")" "$(minmax <"$work/restart.ms")" "$MEASURE_RUNS"
if command -v hyperfine >/dev/null; then
  hyperfine --runs 20 --warmup 3 --export-json "$work/version.json" "$BINARY version" >/dev/null 2>&1
  printf 'exec to exit of "vigil version" (hyperfine, 20 runs): median %s ms\n' \
    "$(node_modules/.bin/bun -e "console.log((require('$work/version.json').results[0].median * 1000).toFixed(1))")"
fi

start_and_time >/dev/null
sleep "$MEASURE_IDLE"
printf 'idle after %s s: VmRSS %s kB, VmHWM %s kB, threads %s\n' "$MEASURE_IDLE" \
  "$(status_kb "$node_pid" VmRSS)" "$(status_kb "$node_pid" VmHWM)" "$(status_kb "$node_pid" Threads)"
stop_node

[[ $MEASURE_BENCH == yes ]] || exit 0
# bench-dns.sh starts its own vigil; a private copy of the binary tells that process apart from
# any other vigil on this machine.
cp "$BINARY" "$work/vigil-bench"
BENCH_SERVERS=vigil BENCH_SCENARIOS=$MEASURE_SCENARIOS VIGIL_BIN=$work/vigil-bench BENCH_OUT=$work/bench \
  scripts/bench-dns.sh >"$work/bench.out" 2>"$work/bench.err" &
bench=$!
# bench-dns.sh starts a fresh server per scenario: one peak per process, in the order they ran.
declare -A peak=()
order=()
while kill -0 "$bench" 2>/dev/null; do
  for exe in /proc/[0-9]*/exe; do
    [[ $(readlink "$exe" 2>/dev/null) == "$work/vigil-bench" ]] || continue
    pid=${exe#/proc/}; pid=${pid%/exe}
    hwm=$(status_kb "$pid" VmHWM 2>/dev/null || true)
    [[ -n $hwm ]] || continue
    [[ -v "peak[$pid]" ]] || order+=("$pid")
    peak[$pid]=$hwm
  done
  sleep 0.2
done
wait "$bench" || { tail -n 20 "$work/bench.err" >&2; echo "measure: bench-dns.sh failed" >&2; exit 1; }
read -r -a scenarios <<<"$MEASURE_SCENARIOS"
for i in "${!order[@]}"; do
  printf 'under scripts/bench-dns.sh, scenario %s: VmHWM %s kB\n' "${scenarios[i]:-?}" "${peak[${order[i]}]}"
done
grep -E '^ *(scenario|server|positive|nxdomain)' "$work/bench.out" | sed 's/^/  /' || cat "$work/bench.out"
