#!/usr/bin/env bash
# bench-probes-scale.sh: vigil probing 2,000 targets at a 1 s interval on one core. Reports vigil's
# CPU use while it probes, how late probes start (the scheduler's lateness percentiles from
# GET /api/v1/ready), and the DNS benchmark of bench-dns.sh against the same vigil config with and
# without the probes running, in alternating rounds (median qps ratio; the goal is >= 0.90).
# See docs/benchmarks.md ("Probe scale").
#
#   scripts/bench-probes-scale.sh                                  # 1000 tcp + 1000 http targets
#   BENCH_TCP_TARGETS=2000 BENCH_HTTP_TARGETS=0 scripts/bench-probes-scale.sh
#
# The targets: one backend process (scripts/bench/http-backend.ts) listens on N consecutive ports of
# 127.0.0.1; port P is probed once by a tcp check and once by an http check (GET /health), two
# distinct targets. Each target belongs to one backend (address 127.1.x.y for tcp, 127.2.x.y for
# http, never contacted; check_address 127.0.0.1, check_port P), 100 backends to a service.
#
# Settings (environment):
#   BENCH_TCP_TARGETS / BENCH_HTTP_TARGETS   targets of each type (1000 / 1000)
#   BENCH_PER_SERVICE   backends per service (100)
#   BENCH_INTERVAL      health_check.interval (1s)      BENCH_TIMEOUT  health_check.timeout (500ms)
#   BENCH_ROUNDS        DNS benchmark pairs (without / with probes), alternating which goes first;
#                       the goal is judged on the median ratio (3)
#   BENCH_PROBE_SECONDS window for CPU and lateness while only probes run, in round 1 (30)
#   BENCH_IDLE_SECONDS  the same window for vigil without probes (10)
#   BENCH_SAMPLE_MS     how often GET /api/v1/ready is sampled, ms (500)
#   BENCH_BACKEND_PORT  first port of the backend process (auto: a free block from 20000)
#   BENCH_SECONDS, BENCH_WARMUP, BENCH_P99_SECONDS, BENCH_CLIENTS, BENCH_OUTSTANDING, BENCH_QUERIES,
#   BENCH_SEED          the DNS benchmark, as in bench-dns.sh (15, 3, 5, 10, 100, 10000, 1)
#   BENCH_SCENARIOS     bench-dns.sh scenarios to run (positive)
#   BENCH_SERVER_CPU    core vigil is pinned to (0)
#   BENCH_CLIENT_CPU    core for dnsperf, the backend process and the samplers (1)
#   BENCH_BUILD         auto (build dist/vigil if missing or older than src/), always, never
#   BENCH_OUT           results directory (/tmp/vigil-probes-YYYYmmdd-HHMMSS)
#   VIGIL_BIN           the vigil binary (dist/vigil; never rebuilt when set)

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=$SCRIPT_DIR/bench
cd "$REPO_ROOT"

BENCH_TCP_TARGETS=${BENCH_TCP_TARGETS:-1000}
BENCH_HTTP_TARGETS=${BENCH_HTTP_TARGETS:-1000}
BENCH_PER_SERVICE=${BENCH_PER_SERVICE:-100}
BENCH_INTERVAL=${BENCH_INTERVAL:-1s}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-500ms}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_PROBE_SECONDS=${BENCH_PROBE_SECONDS:-30}
BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-10}
BENCH_SAMPLE_MS=${BENCH_SAMPLE_MS:-500}
BENCH_BACKEND_PORT=${BENCH_BACKEND_PORT:-auto}
BENCH_SECONDS=${BENCH_SECONDS:-15}
BENCH_WARMUP=${BENCH_WARMUP:-3}
BENCH_P99_SECONDS=${BENCH_P99_SECONDS:-5}
BENCH_CLIENTS=${BENCH_CLIENTS:-10}
BENCH_OUTSTANDING=${BENCH_OUTSTANDING:-100}
BENCH_QUERIES=${BENCH_QUERIES:-10000}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-positive}
BENCH_SERVER_CPU=${BENCH_SERVER_CPU:-0}
BENCH_CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
BENCH_BUILD=${BENCH_BUILD:-auto}
BENCH_OUT=${BENCH_OUT:-/tmp/vigil-probes-$(date +%Y%m%d-%H%M%S)}
VIGIL_BIN_DEFAULT=$REPO_ROOT/dist/vigil
VIGIL_BIN=${VIGIL_BIN:-$VIGIL_BIN_DEFAULT}
BUN=$REPO_ROOT/node_modules/.bin/bun

# The zone and queries of bench-dns.sh, so its DNS benchmark runs unchanged.
ZONE=bench.test
RECORDS_FILE=$BENCH_DIR/zone/records.zone
SERVICES_FILE=$BENCH_DIR/zone/services.txt
SCENARIO_DIR=$BENCH_DIR/scenarios

RESULTS_TSV=$BENCH_OUT/results.tsv
COMMANDS_FILE=$BENCH_OUT/commands.txt
NOTES_FILE=$BENCH_OUT/notes.txt

STARTED_PIDS=()
CLAIMED_PORTS=()
SERVER_PID=
SERVER_PORT=
API=
BACKEND_PID=
PORTS=0
TARGETS=0
SAMPLER_PID=

# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------------------------------------
# Checks

check_tools() {
  local missing=() t
  for t in dnsperf taskset dig curl jq getconf ss awk sort gzip; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if ((${#missing[@]})); then
    printf 'bench-probes-scale: missing tools: %s\n' "${missing[*]}" >&2
    printf 'install them with:\n  apt-get install dnsperf bind9-dnsutils curl jq iproute2 util-linux\n' >&2
    exit 2
  fi
  [[ -x $BUN ]] || { printf 'bench-probes-scale: no %s; run npm install first\n' "$BUN" >&2; exit 2; }
}

check_settings() {
  local v
  for v in BENCH_TCP_TARGETS BENCH_HTTP_TARGETS BENCH_PER_SERVICE BENCH_ROUNDS BENCH_PROBE_SECONDS BENCH_IDLE_SECONDS \
    BENCH_SAMPLE_MS BENCH_SECONDS BENCH_WARMUP BENCH_P99_SECONDS BENCH_CLIENTS BENCH_OUTSTANDING \
    BENCH_QUERIES BENCH_SEED BENCH_SERVER_CPU BENCH_CLIENT_CPU; do
    is_uint "${!v}" || die "$v must be a non-negative integer (got '${!v}')"
  done
  ((BENCH_SECONDS > 0 && BENCH_PROBE_SECONDS > 0 && BENCH_SAMPLE_MS > 0)) ||
    die "BENCH_SECONDS, BENCH_PROBE_SECONDS and BENCH_SAMPLE_MS must be > 0"
  ((BENCH_PER_SERVICE > 0 && BENCH_ROUNDS > 0)) || die "BENCH_PER_SERVICE and BENCH_ROUNDS must be > 0"
  ((BENCH_TCP_TARGETS + BENCH_HTTP_TARGETS > 0)) || die "no targets"
  ((BENCH_TCP_TARGETS <= 60000 && BENCH_HTTP_TARGETS <= 60000)) || die "at most 60000 targets of each type"
  [[ $BENCH_INTERVAL =~ ^[0-9]+(ms|s)$ ]] || die "BENCH_INTERVAL must look like 1s or 500ms"
  [[ $BENCH_TIMEOUT =~ ^[0-9]+(ms|s)$ ]] || die "BENCH_TIMEOUT must look like 1s or 500ms"
  [[ $BENCH_BACKEND_PORT == auto ]] || is_uint "$BENCH_BACKEND_PORT" || die "BENCH_BACKEND_PORT must be auto or a port"
  case $BENCH_BUILD in auto | always | never) ;; *) die "BENCH_BUILD must be auto, always or never" ;; esac
  taskset -c "$BENCH_SERVER_CPU" true 2>/dev/null || die "cannot pin to core $BENCH_SERVER_CPU (BENCH_SERVER_CPU)"
  taskset -c "$BENCH_CLIENT_CPU" true 2>/dev/null || die "cannot pin to core $BENCH_CLIENT_CPU (BENCH_CLIENT_CPU)"
  if ((BENCH_SERVER_CPU == BENCH_CLIENT_CPU)); then
    warn "vigil and dnsperf/backends share core $BENCH_SERVER_CPU: every number measures both"
  fi
  local need=$((BENCH_TCP_TARGETS > BENCH_HTTP_TARGETS ? BENCH_TCP_TARGETS : BENCH_HTTP_TARGETS))
  if (($(ulimit -n) < need + 1000)); then
    warn "ulimit -n is $(ulimit -n); the backend process needs ~$need descriptors for its ports"
  fi
}

# A block of COUNT consecutive TCP ports free on 127.0.0.1, starting at or above FROM in steps of
# 1000 and below the ephemeral range where possible.
free_port_block() {
  local count=$1 from=$2 base used
  used=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
  for ((base = from; base + count <= 65536; base += 1000)); do
    if ! awk -v lo="$base" -v hi=$((base + count - 1)) '$1 >= lo && $1 <= hi { found = 1 } END { exit !found }' <<<"$used"; then
      printf '%s' "$base"
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Processes

start_backend() {
  local dir=$BENCH_OUT/backend base n
  mkdir -p "$dir"
  if [[ $BENCH_BACKEND_PORT == auto ]]; then
    base=$(free_port_block "$PORTS" 20000) || die "no block of $PORTS free ports"
  else
    base=$BENCH_BACKEND_PORT
  fi
  BENCH_BACKEND_PORT=$base
  record_command taskset -c "$BENCH_CLIENT_CPU" "$BUN" "$BENCH_DIR/http-backend.ts" 127.0.0.1 "$base" "$PORTS"
  taskset -c "$BENCH_CLIENT_CPU" "$BUN" "$BENCH_DIR/http-backend.ts" 127.0.0.1 "$base" "$PORTS" \
    >"$dir/stdout" 2>"$dir/stderr" &
  BACKEND_PID=$!
  STARTED_PIDS+=("$BACKEND_PID")
  for ((n = 0; n < 300; n++)); do
    grep -q '^listening' "$dir/stdout" 2>/dev/null && return 0
    kill -0 "$BACKEND_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$dir/stderr" >&2 || true
  die "the backend process did not listen on 127.0.0.1:$base-$((base + PORTS - 1)) within 30 s"
}

# vigil_config DIR WITH_PROBES(0|1): the bench-dns.sh zone plus the probe services; without probes
# the same services and backends, with no health_check (so every backend is simply up).
vigil_config() {
  local dir=$1 probes=$2 name ttl addrs addr kind count s j tcp_check http_check
  tcp_check="{ type: tcp, interval: $BENCH_INTERVAL, timeout: $BENCH_TIMEOUT }"
  http_check="{ type: http, path: /health, interval: $BENCH_INTERVAL, timeout: $BENCH_TIMEOUT }"
  cat <<EOF
# Generated by scripts/bench-probes-scale.sh ($( ((probes)) && echo "with probes" || echo "same services, no probes"))
mode: standalone
identity: { node_id: bench }
dns:
  listen_address: "127.0.0.1:$SERVER_PORT"
  zones: [$ZONE]
  default_ttl: 300
  nameservers: [{ name: ns1.$ZONE, addresses: [127.0.0.1] }]
  records: |
EOF
  zone_records | sed 's/^/    /'
  cat <<EOF
data_dir: "$dir/data"
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
EOF
  # bench-dns.sh's services, unchanged (no health checks): the names its queries ask for.
  while read -r name ttl addrs; do
    printf '  - name: %s\n    policy: roundrobin\n    ttl: %s\n    backends:\n' "$name" "$ttl"
    for addr in $addrs; do printf '      - { address: "%s" }\n' "$addr"; done
  done < <(services)
  for kind in tcp http; do
    if [[ $kind == tcp ]]; then count=$BENCH_TCP_TARGETS; else count=$BENCH_HTTP_TARGETS; fi
    for ((s = 0; s * BENCH_PER_SERVICE < count; s++)); do
      printf '  - name: %s%02d\n    ttl: 30\n' "$kind" "$s"
      if ((probes)); then
        if [[ $kind == tcp ]]; then printf '    health_check: %s\n' "$tcp_check"; else printf '    health_check: %s\n' "$http_check"; fi
      fi
      printf '    backends:\n'
      for ((j = s * BENCH_PER_SERVICE; j < (s + 1) * BENCH_PER_SERVICE && j < count; j++)); do
        printf '      - { address: 127.%d.%d.%d, port: 80, check_address: 127.0.0.1, check_port: %d }\n' \
          "$([[ $kind == tcp ]] && echo 1 || echo 2)" $((j / 250)) $((j % 250 + 1)) $((BENCH_BACKEND_PORT + j))
      done
    done
  done
}

# start_vigil DIR WITH_PROBES: write the config, start vigil pinned to the server core, wait for its
# SOA answer; sets SERVER_PID, SERVER_PORT, API.
start_vigil() {
  local dir=$1 probes=$2 n
  mkdir -p "$dir/data"
  SERVER_PORT=$(free_port 5400) || { log "no free port"; return 1; }
  vigil_config "$dir" "$probes" >"$dir/vigil.yaml"
  record_command taskset -c "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml"
  taskset -c "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml" >"$dir/stdout" 2>"$dir/stderr" &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  START_US=$(now_us)
  if ! wait_ready "$SERVER_PORT" "$SERVER_PID"; then
    log "vigil stderr ($dir/stderr), last lines:"
    tail -n 40 "$dir/stderr" >&2 || true
    return 1
  fi
  for ((n = 0; n < 50; n++)); do
    API=$(grep -m1 '"msg":"vigil started"' "$dir/stderr" | jq -r '.api // empty' 2>/dev/null || true)
    [[ -n $API ]] && return 0
    sleep 0.1
  done
  log "no API address in vigil's 'vigil started' log line"
  return 1
}

# Until vigil logged its first probe round (at most 60 s); prints the seconds since vigil started.
wait_first_round() {
  local stderr=$1 n
  for ((n = 0; n < 600; n++)); do
    if grep -q '"msg":"ready: first probe round done"' "$stderr"; then
      awk -v us=$(($(now_us) - START_US)) 'BEGIN { printf "%.1f", us / 1e6 }'
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Sampling

# sample_ready FILE: every BENCH_SAMPLE_MS, GET /api/v1/ready -> one compact JSON line in FILE.
# In the background, pinned to the client core; stop it with stop_sampler.
start_sampler() {
  local file=$1 pause
  pause=$(awk -v ms="$BENCH_SAMPLE_MS" 'BEGIN { printf "%.3f", ms / 1000 }')
  : >"$file"
  (
    # shellcheck disable=SC2016 # expanded by the inner bash
    exec taskset -c "$BENCH_CLIENT_CPU" bash -c '
      while :; do
        curl -s -m 1 "http://$1/api/v1/ready" | jq -c . 2>/dev/null >>"$2" || true
        sleep "$3"
      done' sampler "$API" "$file" "$pause"
  ) &
  SAMPLER_PID=$!
  STARTED_PIDS+=("$SAMPLER_PID")
}

stop_sampler() {
  [[ -n $SAMPLER_PID ]] || return 0
  stop_server "$SAMPLER_PID"
  SAMPLER_PID=
}

# Summary of a sample file: "samples p50_med p99_med p99_max running_max queued_max skipped_delta
# targets"; lateness in ms. Each sample's percentiles cover the scheduler's recent window.
summarize_samples() {
  jq -r 'select(.probes.lateness != null) | .probes |
    [.lateness.p50, .lateness.p99, .running, .queued, .skippedOverlaps, .targets, .lateness.samples] | @tsv' "$1" |
    awk -F'\t' '
      { n++; p50[n] = $1; p99[n] = $2; if ($3 > rmax) rmax = $3; if ($4 > qmax) qmax = $4
        if (n == 1) skip0 = $5; skip1 = $5; targets = $6; window = $7
        if ($2 > worst) worst = $2 }
      function median(a, m,   i, j, x) {
        for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return a[int((m + 1) / 2)]
      }
      END {
        if (n == 0) { print "0 - - - - - - - -"; exit }
        print n, median(p50, n), median(p99, n), worst, rmax + 0, qmax + 0, skip1 - skip0, targets, window
      }'
}

# "up down other" counts of every health-checked backend's state, from GET /api/v1/services.
backend_states() {
  curl -s -m 5 "http://$API/api/v1/services" |
    jq -r '[.services[].backends[] | select(.watched) | .state] |
      "\(map(select(. == "up")) | length) \(map(select(. == "down")) | length) \(map(select(. != "up" and . != "down")) | length)"' 2>/dev/null ||
    echo "- - -"
}

state_changes() { grep -c '"msg":"backend state changed"' "$1" || true; }

# "utime stime" clock ticks of PID itself (all its threads).
own_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat" 2>/dev/null || echo "0 0"
}

# cpu_window SECONDS PID: CPU of vigil (PID: total, user, system) and of the backend process over
# SECONDS, and how busy both cores were, all in % of one core:
# "vigil vigil_user vigil_sys backend core_server core_client".
cpu_window() {
  local seconds=$1 pid=$2 hz c0 c1 u0 u1 y0 y1 b0 b1 s0 s1 k0 k1 t0 t1
  hz=$(getconf CLK_TCK)
  read -r s0 _ < <(core_ticks "$BENCH_SERVER_CPU")
  read -r k0 _ < <(core_ticks "$BENCH_CLIENT_CPU")
  c0=$(tree_cpu_ticks "$pid")
  read -r u0 y0 < <(own_ticks "$pid")
  b0=$(tree_cpu_ticks "$BACKEND_PID")
  t0=$(now_us)
  sleep "$seconds"
  t1=$(now_us)
  c1=$(tree_cpu_ticks "$pid")
  read -r u1 y1 < <(own_ticks "$pid")
  b1=$(tree_cpu_ticks "$BACKEND_PID")
  read -r s1 _ < <(core_ticks "$BENCH_SERVER_CPU")
  read -r k1 _ < <(core_ticks "$BENCH_CLIENT_CPU")
  awk -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v y=$((y1 - y0)) -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v k=$((k1 - k0)) \
    -v hz="$hz" -v us=$((t1 - t0)) '
    function pct(t) { return 100 * t / hz / (us / 1e6) }
    BEGIN { printf "%.1f %.1f %.1f %.1f %.0f %.0f\n", pct(c), pct(u), pct(y), pct(b), pct(s), pct(k) }'
}

# ---------------------------------------------------------------------------------------------

# run_baseline ROUND: vigil with the same services and no health checks; the DNS benchmark.
run_baseline() {
  local r=$1 dir=$BENCH_OUT/vigil-$1 scenario
  mkdir -p "$dir"
  log "round $r: vigil without probes: starting"
  start_vigil "$dir" 0 || die "vigil did not start (see $dir/)"
  if ((r == 1)); then
    log "vigil without probes: idle CPU over ${BENCH_IDLE_SECONDS}s"
    read -r IDLE_CPU _ < <(cpu_window "$BENCH_IDLE_SECONDS" "$SERVER_PID")
  fi
  for scenario in "${SCENARIOS[@]}"; do
    measure "vigil-$r" "$scenario" "$BENCH_OUT/queries-$scenario.txt" ||
      { FAILED=1; printf '%s\tvigil-%s\tFAILED\n' "$scenario" "$r" >>"$RESULTS_TSV"; }
  done
  stop_server "$SERVER_PID"
}

# run_probes ROUND: vigil probing every target; in round 1 the probes-alone window first; then the
# DNS benchmark with the API sampled throughout.
run_probes() {
  local r=$1 dir=$BENCH_OUT/probes-$1 scenario first_round seen c0 c1 c2 errors
  local stderr=$dir/stderr
  mkdir -p "$dir"
  log "round $r: vigil with $TARGETS probe targets: starting"
  start_vigil "$dir" 1 || die "vigil did not start (see $dir/)"
  first_round=$(wait_first_round "$stderr") || die "vigil did not log 'ready: first probe round done' within 60 s"
  seen=$(curl -s -m 5 "http://$API/api/v1/ready" | jq -r '.probes.targets // "?"' 2>/dev/null || echo "?")
  log "round $r: first probe round done ${first_round}s after start; vigil reports $seen targets"
  [[ $seen == "$TARGETS" ]] ||
    warn "round $r: vigil reports $seen probe targets, the config has $TARGETS distinct ones (target identity: type + check address + port + type settings)"
  sleep 2

  c0=$(state_changes "$stderr")
  if ((r == 1)); then
    FIRST_ROUND=$first_round
    TARGETS_SEEN=$seen
    STATES_BEFORE=$(backend_states)
    log "probes alone: CPU and lateness over ${BENCH_PROBE_SECONDS}s"
    start_sampler "$BENCH_OUT/ready-probes.jsonl"
    read -r PROBE_CPU PROBE_USER PROBE_SYS BACKEND_CPU CORE_S CORE_C < <(cpu_window "$BENCH_PROBE_SECONDS" "$SERVER_PID")
    stop_sampler
    IDLE_SAMPLES=$(summarize_samples "$BENCH_OUT/ready-probes.jsonl")
    IDLE_STATES=$(backend_states)
  fi
  c1=$(state_changes "$stderr")
  CHANGES_IDLE=$((c1 - c0))

  start_sampler "$BENCH_OUT/ready-dns-$r.jsonl"
  for scenario in "${SCENARIOS[@]}"; do
    measure "probes-$r" "$scenario" "$BENCH_OUT/queries-$scenario.txt" ||
      { FAILED=1; printf '%s\tprobes-%s\tFAILED\n' "$scenario" "$r" >>"$RESULTS_TSV"; }
  done
  stop_sampler
  c2=$(state_changes "$stderr")
  printf '%s\t%s\t%s\t%s\n' "$r" "$(summarize_samples "$BENCH_OUT/ready-dns-$r.jsonl")" "$((c2 - c1))" \
    "$(backend_states)" >>"$BENCH_OUT/probes-during-dns.tsv"
  curl -s -m 5 "http://$API/api/v1/ready" >"$dir/ready-last.json" || true
  errors=$(grep -c '"level":"\(warn\|error\)"' "$stderr" || true)
  ((errors == 0)) || warn "round $r: vigil logged $errors warn/error lines (see $stderr)"
  stop_server "$SERVER_PID"
}

main() {
  check_tools
  mkdir -p "$BENCH_OUT"
  BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
  RESULTS_TSV=$BENCH_OUT/results.tsv
  COMMANDS_FILE=$BENCH_OUT/commands.txt
  NOTES_FILE=$BENCH_OUT/notes.txt
  : >"$RESULTS_TSV"
  : >"$COMMANDS_FILE"
  : >"$NOTES_FILE"
  : >"$BENCH_OUT/latency.txt"
  : >"$BENCH_OUT/probes-during-dns.tsv"
  check_settings
  PORTS=$((BENCH_TCP_TARGETS > BENCH_HTTP_TARGETS ? BENCH_TCP_TARGETS : BENCH_HTTP_TARGETS))
  TARGETS=$((BENCH_TCP_TARGETS + BENCH_HTTP_TARGETS))

  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'exit 143' TERM

  log "results in $BENCH_OUT"
  {
    printf 'date: %s\nhost: %s\nkernel: %s\ncpus: %s (%s)\n' "$(date -Is)" "$(hostname)" "$(uname -r)" \
      "$(nproc)" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'dnsperf: %s\n' "$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')"
    printf 'git: %s\n' "$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'settings: BENCH_TCP_TARGETS=%s BENCH_HTTP_TARGETS=%s BENCH_PER_SERVICE=%s BENCH_INTERVAL=%s BENCH_TIMEOUT=%s BENCH_ROUNDS=%s BENCH_PROBE_SECONDS=%s BENCH_IDLE_SECONDS=%s BENCH_SAMPLE_MS=%s BENCH_SECONDS=%s BENCH_WARMUP=%s BENCH_P99_SECONDS=%s BENCH_CLIENTS=%s BENCH_OUTSTANDING=%s BENCH_QUERIES=%s BENCH_SEED=%s server_cpu=%s client_cpu=%s\n' \
      "$BENCH_TCP_TARGETS" "$BENCH_HTTP_TARGETS" "$BENCH_PER_SERVICE" "$BENCH_INTERVAL" "$BENCH_TIMEOUT" \
      "$BENCH_ROUNDS" "$BENCH_PROBE_SECONDS" "$BENCH_IDLE_SECONDS" "$BENCH_SAMPLE_MS" "$BENCH_SECONDS" "$BENCH_WARMUP" \
      "$BENCH_P99_SECONDS" "$BENCH_CLIENTS" "$BENCH_OUTSTANDING" "$BENCH_QUERIES" "$BENCH_SEED" \
      "$BENCH_SERVER_CPU" "$BENCH_CLIENT_CPU"
  } >"$BENCH_OUT/system.txt"

  local busy_s busy_c
  busy_s=$(core_busy_pct "$BENCH_SERVER_CPU")
  busy_c=$(core_busy_pct "$BENCH_CLIENT_CPU")
  printf 'idle check: core %s %s%% busy, core %s %s%% busy\n' "$BENCH_SERVER_CPU" "$busy_s" \
    "$BENCH_CLIENT_CPU" "$busy_c" >>"$BENCH_OUT/system.txt"
  if ((busy_s > 10 || busy_c > 10)); then
    warn "before starting: core $BENCH_SERVER_CPU ${busy_s}% busy, core $BENCH_CLIENT_CPU ${busy_c}% busy with other work; results will be noisy"
    ps -eo pid,psr,pcpu,etime,comm --sort=-pcpu | head -n 6 >&2
  fi

  ensure_vigil_binary "$BENCH_OUT" || die "no vigil binary"
  "$VIGIL_BIN" version >"$BENCH_OUT/version.txt" 2>&1 || true

  mapfile -t SCENARIOS < <(list_scenarios)
  local scenario r
  for scenario in "${SCENARIOS[@]}"; do make_queries "$scenario" "$BENCH_OUT/queries-$scenario.txt"; done

  start_backend
  log "backend process listening on 127.0.0.1:$BENCH_BACKEND_PORT-$((BENCH_BACKEND_PORT + PORTS - 1)) (pid $BACKEND_PID, core $BENCH_CLIENT_CPU)"

  # Rounds alternate which vigil goes first, so a drift of the machine over the run (another
  # tenant, thermal) does not always land on the same side of the ratio.
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    if ((r % 2 == 1)); then run_baseline "$r"; run_probes "$r"; else run_probes "$r"; run_baseline "$r"; fi
  done

  report | tee "$BENCH_OUT/summary.txt"
  return "$FAILED"
}

# median of the numbers on stdin
median() { sort -g | awk '{ v[++n] = $1 } END { if (n == 0) print "-"; else if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2 }'; }

report() {
  local n p50 p99 worst rmax qmax skipped _t window up down other

  printf '\nvigil probing %s targets (%s tcp + %s http GET /health) every %s, timeout %s,\n' \
    "$TARGETS" "$BENCH_TCP_TARGETS" "$BENCH_HTTP_TARGETS" "$BENCH_INTERVAL" "$BENCH_TIMEOUT"
  printf 'against one backend process on 127.0.0.1:%s-%s; %s backends per service. vigil on core %s;\n' \
    "$BENCH_BACKEND_PORT" "$((BENCH_BACKEND_PORT + PORTS - 1))" "$BENCH_PER_SERVICE" "$BENCH_SERVER_CPU"
  printf 'dnsperf, the backend process and the API sampler on core %s.\n\n' "$BENCH_CLIENT_CPU"

  printf 'targets vigil reports:     %s (first probe round done %s s after start)\n' "$TARGETS_SEEN" "$FIRST_ROUND"
  printf 'probes alone (%s s, round 1):\n' "$BENCH_PROBE_SECONDS"
  printf '  vigil CPU                %5s %% of one core (user %s, system %s); without probes: %s %%\n' \
    "$PROBE_CPU" "$PROBE_USER" "$PROBE_SYS" "$IDLE_CPU"
  printf '  backend process CPU      %5s %% of one core   (core %s busy %s %%, core %s busy %s %%)\n' \
    "$BACKEND_CPU" "$BENCH_SERVER_CPU" "$CORE_S" "$BENCH_CLIENT_CPU" "$CORE_C"
  read -r n p50 p99 worst rmax qmax skipped _t window <<<"$IDLE_SAMPLES"
  printf '  probe start lateness     p50 %s ms, p99 %s ms (medians over %s samples of /api/v1/ready); worst sample p99 %s ms\n' \
    "$p50" "$p99" "$n" "$worst"
  printf '  scheduler                running max %s, queued max %s, skipped overlaps +%s\n' "$rmax" "$qmax" "$skipped"
  read -r up down other <<<"$IDLE_STATES"
  printf '  backend states           %s up, %s down, %s other at the end; %s state changes in the window (before: %s)\n' \
    "$up" "$down" "$other" "$CHANGES_IDLE" "$STATES_BEFORE"

  printf '\nDNS benchmark (bench-dns.sh, same queries) against vigil without probes and with them, %s round(s):\n\n' "$BENCH_ROUNDS"
  awk -F'\t' '
    BEGIN { fmt = "%-10s %-6s %-7s %9s %8s %8s %8s %11s %7s %9s\n"
            printf fmt, "scenario", "round", "server", "qps", "avg_ms", "p50_ms", "p99_ms", "cpu_s/100k", "lost", "srv_cpu%" }
    { split($2, a, "-"); server = a[1]; round = a[2] }
    $3 == "FAILED" { printf fmt, $1, round, server, "FAILED", "-", "-", "-", "-", "-", "-"; next }
    { printf fmt, $1, round, server, sprintf("%.0f", $3), sprintf("%.3f", $4 * 1000), $5, $6, sprintf("%.3f", $7), $8, $10 }
  ' <(awk -F'\t' '{ split($2, a, "-"); print $1 "\t" a[2] "\t" (a[1] == "vigil" ? 0 : 1) "\t" $0 }' "$RESULTS_TSV" |
    sort -t$'\t' -k1,1 -k2,2n -k3,3n | cut -f4-)

  printf '\n'
  local scenario ratios med_q med_c
  for scenario in "${SCENARIOS[@]}"; do
    ratios=$(awk -F'\t' -v s="$scenario" '$1 == s && $3 != "FAILED" { split($2, a, "-"); q[a[1], a[2]] = $3; c[a[1], a[2]] = $7; r[a[2]] = 1 }
      END { for (k in r) if ((("vigil", k) in q) && (("probes", k) in q)) printf "%s %.3f %.3f\n", k, q["probes", k] / q["vigil", k], c["probes", k] / c["vigil", k] }' "$RESULTS_TSV" | sort -n)
    [[ -n $ratios ]] || continue
    printf 'ratio probes/vigil (%s), per round: %s\n' "$scenario" \
      "$(awk '{ printf "%s%s: qps %.2f cpu/100k %.2f", (NR > 1 ? "; " : ""), $1, $2, $3 }' <<<"$ratios")"
    med_q=$(awk '{ print $2 }' <<<"$ratios" | median)
    med_c=$(awk '{ print $3 }' <<<"$ratios" | median)
    printf 'goal (%s): qps with probes >= 0.90 x without (median of rounds): %s (%.2f); CPU s per 100k queries %.2fx\n' \
      "$scenario" "$(awk -v r="$med_q" 'BEGIN { print (r >= 0.9 ? "met" : "NOT met") }')" "$med_q" "$med_c"
  done

  printf '\nprobes while dnsperf ran, per round:\n'
  while IFS=$'\t' read -r r samples changes states; do
    read -r n p50 p99 worst rmax qmax skipped _t window <<<"$samples"
    read -r up down other <<<"$states"
    printf '  round %s: lateness p50 %s ms, p99 %s ms (medians over %s samples), worst sample p99 %s ms; running max %s, queued max %s, skipped overlaps +%s; %s state changes; %s up, %s down at the end\n' \
      "$r" "$p50" "$p99" "$n" "$worst" "$rmax" "$qmax" "$skipped" "$changes" "$up" "$down"
  done <"$BENCH_OUT/probes-during-dns.tsv"

  read -r n p50 p99 worst rmax qmax skipped _t window <<<"$IDLE_SAMPLES"
  printf '\nlateness: how long after its due time a probe started (ms), from the scheduler'"'"'s percentiles over\n'
  printf 'its last %s runs (~%s s of runs at this rate), sampled every %s ms. CPU: utime+stime of the process\n' \
    "${window:-?}" "$(awk -v w="${window:-0}" -v t="$TARGETS" -v i="$BENCH_INTERVAL" 'BEGIN { ms = (i ~ /ms$/) ? i + 0 : 1000 * i; printf "%.1f", (t > 0 ? w / (t * 1000 / ms) : 0) }')" "$BENCH_SAMPLE_MS"
  printf '(/proc/PID/stat) over wall time. DNS columns as in bench-dns.sh (docs/benchmarks.md); cpu_s/100k\n'
  printf 'with probes includes the probes'"'"' own CPU during the run.\n'
  if [[ -s $NOTES_FILE ]]; then
    printf '\nnotes:\n'
    sed 's/^/  /' "$NOTES_FILE"
  fi
  printf '\nconfigs: %s/vigil-1/vigil.yaml (no probes), %s/probes-1/vigil.yaml\n' "$BENCH_OUT" "$BENCH_OUT"
  printf 'vigil: %s\n' "$(head -n 1 "$BENCH_OUT/version.txt" 2>/dev/null || echo unknown)"
  printf '\ncommands:\n'
  sort -u "$COMMANDS_FILE" | sed 's/^/  /'
  printf '\nraw outputs: %s\n' "$BENCH_OUT"
}

FAILED=0
SCENARIOS=()
IDLE_CPU=- FIRST_ROUND=- TARGETS_SEEN=- STATES_BEFORE=- PROBE_CPU=- PROBE_USER=- PROBE_SYS=- BACKEND_CPU=-
CORE_S=- CORE_C=- IDLE_SAMPLES=- IDLE_STATES=- CHANGES_IDLE=-
main "$@"
