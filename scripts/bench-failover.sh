#!/usr/bin/env bash
# bench-failover.sh: how fast vigil takes a dead backend out of its DNS answers and puts it back.
# Runs vigil with one health-checked service over a few real backend processes on 127.0.0.x, then,
# trial after trial, SIGKILLs one backend and polls vigil with dig until the answer no longer holds
# its address; restarts it and polls until the address is back. Prints min, median, p95 and max of
# both, in seconds. See docs/benchmarks.md ("Failover") for how to read the numbers.
#
#   scripts/bench-failover.sh                       # 20 trials, http check every 1 s, threshold 2
#   BENCH_TRIALS=50 BENCH_CHECK=tcp scripts/bench-failover.sh
#
# Settings (environment):
#   BENCH_TRIALS       kill/restore trials (20)
#   BENCH_CHECK        probe type: http (GET /health) or tcp (http)
#   BENCH_INTERVAL     health_check.interval (1s)        BENCH_TIMEOUT   health_check.timeout (500ms)
#   BENCH_FAILURES     health_check.failure_threshold (2) BENCH_SUCCESSES health_check.success_threshold (2)
#   BENCH_BACKENDS     backend processes, on 127.0.0.2 upwards; killed in turn (3)
#   BENCH_POLL_MS      pause between two dig polls, ms (25)
#   BENCH_WAIT_MAX     give up waiting for one change after this many seconds (15)
#   BENCH_SERVER_CPU   core vigil is pinned to (0)
#   BENCH_CLIENT_CPU   core for this script, dig and the backends (1)
#   BENCH_BUILD        auto (build dist/vigil if missing or older than src/), always, never
#   BENCH_OUT          results directory (/tmp/vigil-failover-YYYYmmdd-HHMMSS)
#   VIGIL_BIN          the vigil binary (dist/vigil; never rebuilt when set)

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=$SCRIPT_DIR/bench
cd "$REPO_ROOT"

BENCH_TRIALS=${BENCH_TRIALS:-20}
BENCH_CHECK=${BENCH_CHECK:-http}
BENCH_INTERVAL=${BENCH_INTERVAL:-1s}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-500ms}
BENCH_FAILURES=${BENCH_FAILURES:-2}
BENCH_SUCCESSES=${BENCH_SUCCESSES:-2}
BENCH_BACKENDS=${BENCH_BACKENDS:-3}
BENCH_POLL_MS=${BENCH_POLL_MS:-25}
BENCH_WAIT_MAX=${BENCH_WAIT_MAX:-15}
BENCH_SERVER_CPU=${BENCH_SERVER_CPU:-0}
BENCH_CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
BENCH_BUILD=${BENCH_BUILD:-auto}
BENCH_OUT=${BENCH_OUT:-/tmp/vigil-failover-$(date +%Y%m%d-%H%M%S)}
VIGIL_BIN_DEFAULT=$REPO_ROOT/dist/vigil
VIGIL_BIN=${VIGIL_BIN:-$VIGIL_BIN_DEFAULT}
BUN=$REPO_ROOT/node_modules/.bin/bun

ZONE=fo.test
SERVICE=app
TTL=1

RESULTS_TSV=$BENCH_OUT/trials.tsv
COMMANDS_FILE=$BENCH_OUT/commands.txt
NOTES_FILE=$BENCH_OUT/notes.txt

STARTED_PIDS=()
CLAIMED_PORTS=()
SERVER_PID=
SERVER_PORT=
PINNED=1
BACKEND_PORT=
BACKEND_ADDRS=()
BACKEND_PIDS=()

# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------------------------------------
# Checks

check_tools() {
  local missing=() t
  for t in dig ss awk date; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if ((${#missing[@]})); then
    printf 'bench-failover: missing tools: %s\n' "${missing[*]}" >&2
    printf 'install them with:\n  apt-get install bind9-dnsutils iproute2 util-linux\n' >&2
    exit 2
  fi
  [[ -x $BUN ]] || { printf 'bench-failover: no %s; run npm install first\n' "$BUN" >&2; exit 2; }
}

check_settings() {
  local v
  for v in BENCH_TRIALS BENCH_FAILURES BENCH_SUCCESSES BENCH_BACKENDS BENCH_POLL_MS BENCH_WAIT_MAX \
    BENCH_SERVER_CPU BENCH_CLIENT_CPU; do
    is_uint "${!v}" || die "$v must be a non-negative integer (got '${!v}')"
  done
  ((BENCH_TRIALS > 0)) || die "BENCH_TRIALS must be > 0"
  ((BENCH_BACKENDS >= 2 && BENCH_BACKENDS <= 200)) || die "BENCH_BACKENDS must be 2..200 (one is always down during a trial)"
  ((BENCH_FAILURES > 0 && BENCH_SUCCESSES > 0)) || die "BENCH_FAILURES and BENCH_SUCCESSES must be > 0"
  case $BENCH_CHECK in http | tcp) ;; *) die "BENCH_CHECK must be http or tcp" ;; esac
  case $BENCH_BUILD in auto | always | never) ;; *) die "BENCH_BUILD must be auto, always or never" ;; esac
  [[ $BENCH_INTERVAL =~ ^[0-9]+(ms|s)$ ]] || die "BENCH_INTERVAL must look like 1s or 500ms"
  [[ $BENCH_TIMEOUT =~ ^[0-9]+(ms|s)$ ]] || die "BENCH_TIMEOUT must look like 1s or 500ms"
  # Pinning is best effort here: without taskset or a second core the numbers still mean something
  # (they are seconds, not microseconds), so say so and go on.
  if ! command -v taskset >/dev/null 2>&1; then
    PINNED=0
    warn "taskset not found: vigil, dig and the backends are not pinned to cores"
  elif ! taskset -c "$BENCH_SERVER_CPU" true 2>/dev/null || ! taskset -c "$BENCH_CLIENT_CPU" true 2>/dev/null; then
    PINNED=0
    warn "cannot pin to cores $BENCH_SERVER_CPU/$BENCH_CLIENT_CPU (one core?): running unpinned"
  fi
}

# "1s" / "500ms" -> milliseconds.
duration_ms() {
  case $1 in
    *ms) printf '%s' "${1%ms}" ;;
    *s) printf '%s' "$((${1%s} * 1000))" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Processes

# pinned CORE CMD...: exec CMD pinned to CORE when pinning works, else as is. Only for a background
# job (`pinned 1 cmd &`): the exec makes $! the command's own pid, so a SIGKILL reaches it.
pinned() {
  local core=$1
  shift
  if ((PINNED)); then exec taskset -c "$core" "$@"; else exec "$@"; fi
}

# start_backend I: start backend I (address BACKEND_ADDRS[I]) in the background; its stdout says
# "listening ..." once it accepts connections. Sets BACKEND_PIDS[I].
start_backend() {
  local i=$1 addr=${BACKEND_ADDRS[$1]}
  local out=$BENCH_OUT/backends/$addr
  pinned "$BENCH_CLIENT_CPU" "$BUN" "$BENCH_DIR/http-backend.ts" "$addr" "$BACKEND_PORT" >"$out.stdout" 2>>"$out.stderr" &
  BACKEND_PIDS[i]=$!
  STARTED_PIDS+=("$!")
}

# wait_listening I: until backend I printed "listening" (at most 10 s).
wait_listening() {
  local i=$1 addr=${BACKEND_ADDRS[$1]} n
  for ((n = 0; n < 200; n++)); do
    grep -q '^listening' "$BENCH_OUT/backends/$addr.stdout" 2>/dev/null && return 0
    kill -0 "${BACKEND_PIDS[i]}" 2>/dev/null || break
    sleep 0.05
  done
  log "backend $addr:$BACKEND_PORT did not start; its stderr:"
  tail -n 5 "$BENCH_OUT/backends/$addr.stderr" >&2 || true
  return 1
}

start_vigil() {
  local dir=$1 i check
  ensure_vigil_binary "$dir" || return 1
  "$VIGIL_BIN" version >"$dir/version.txt" 2>&1 || true
  SERVER_PORT=$(free_port 5400) || { log "no free port"; return 1; }
  mkdir -p "$dir/data"
  if [[ $BENCH_CHECK == http ]]; then check="type: http, path: /health"; else check="type: tcp"; fi
  {
    cat <<EOF
# Generated by scripts/bench-failover.sh
mode: standalone
identity: { node_id: bench }
dns:
  listen_address: "127.0.0.1:$SERVER_PORT"
  zones: [$ZONE]
  nameservers: [{ name: ns1.$ZONE, addresses: [127.0.0.1] }]
data_dir: "$dir/data"
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: $SERVICE
    ttl: $TTL
    health_check: { $check, interval: $BENCH_INTERVAL, timeout: $BENCH_TIMEOUT, failure_threshold: $BENCH_FAILURES, success_threshold: $BENCH_SUCCESSES }
    flap_damping: { max_changes: 0 }   # off: every trial flips a backend twice
    backends:
EOF
    for i in "${!BACKEND_ADDRS[@]}"; do
      printf '      - { address: %s, port: %s }\n' "${BACKEND_ADDRS[$i]}" "$BACKEND_PORT"
    done
  } >"$dir/vigil.yaml"

  record_command taskset -c "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml"
  pinned "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml" >"$dir/stdout" 2>"$dir/stderr" &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  if ! wait_ready "$SERVER_PORT" "$SERVER_PID"; then
    log "vigil stderr ($dir/stderr), last lines:"
    tail -n 40 "$dir/stderr" >&2 || true
    return 1
  fi
}

# Until vigil logged its first probe round (at most 10 s).
wait_first_round() {
  local stderr=$1 n
  for ((n = 0; n < 100; n++)); do
    grep -q '"msg":"ready: first probe round done"' "$stderr" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "vigil did not log 'ready: first probe round done' within 10 s"
  return 1
}

# ---------------------------------------------------------------------------------------------
# Measuring

# The addresses in vigil's answer for the service, one per line; nothing when dig got no answer.
answer_addrs() {
  dig @127.0.0.1 -p "$SERVER_PORT" "$SERVICE.$ZONE" A +short +norec +time=1 +tries=1 2>/dev/null |
    grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' || true
}

# wait_answer out|in ADDRESS START_US [LISTEN_FILE]: poll until the answer no longer holds / holds
# ADDRESS, at most BENCH_WAIT_MAX s after START_US. Prints "SECONDS POLLS LISTEN_SECONDS": the time
# from START_US to the end of the first poll that showed the change ("inf" if none did), the polls
# made, and when LISTEN_FILE first said "listening" ("-" without one, "inf" if never).
# An empty answer (dig timed out) counts as neither.
wait_answer() {
  local want=$1 addr=$2 start=$3 listen_file=${4:-} deadline now addrs polls=0 listen=-
  local pause
  pause=$(awk -v ms="$BENCH_POLL_MS" 'BEGIN { printf "%.3f", ms / 1000 }')
  deadline=$((start + BENCH_WAIT_MAX * 1000000))
  [[ -n $listen_file ]] && listen=inf
  while :; do
    addrs=$(answer_addrs)
    now=$(now_us)
    polls=$((polls + 1))
    if [[ $listen == inf ]] && grep -q '^listening' "$listen_file" 2>/dev/null; then
      listen=$(awk -v us=$((now - start)) 'BEGIN { printf "%.3f", us / 1e6 }')
    fi
    if [[ -n $addrs ]]; then
      if [[ $want == out ]] && ! grep -qxF "$addr" <<<"$addrs"; then break; fi
      if [[ $want == in ]] && grep -qxF "$addr" <<<"$addrs"; then break; fi
    fi
    if ((now >= deadline)); then
      printf 'inf %s %s\n' "$polls" "$listen"
      return 0
    fi
    sleep "$pause"
  done
  awk -v us=$((now - start)) -v polls="$polls" -v listen="$listen" 'BEGIN { printf "%.3f %d %s\n", us / 1e6, polls, listen }'
}

# log_change_after LINE ADDRESS TO START_US: seconds from START_US to the first "backend state
# changed" line after line LINE of vigil's stderr for ADDRESS, to state TO ("up") or away from up
# (TO = "notup"); "-" when there is none.
log_change_after() {
  local from_line=$1 addr=$2 to=$3 start=$4 line stamp us
  line=$(tail -n +"$((from_line + 1))" "$BENCH_OUT/vigil/stderr" |
    grep '"msg":"backend state changed"' | grep -F "\"address\":\"$addr\"" |
    if [[ $to == up ]]; then grep '"to":"up"'; else grep -v '"to":"up"'; fi | head -n 1) || true
  [[ -n $line ]] || { printf -- '-'; return 0; }
  stamp=$(sed -n 's/.*"time":"\([^"]*\)".*/\1/p' <<<"$line")
  us=$(date -d "$stamp" +%s%6N 2>/dev/null) || { printf -- '-'; return 0; }
  awk -v us=$((us - start)) 'BEGIN { printf "%.3f", us / 1e6 }'
}

# trial N: kill one backend, time it out of the answer, restart it, time it back in.
trial() {
  local n=$1 i addr mark t_kill t_start out polls_out in polls_in listen down up delay_ms interval_ms
  i=$(((n - 1) % BENCH_BACKENDS))
  addr=${BACKEND_ADDRS[$i]}
  interval_ms=$(duration_ms "$BENCH_INTERVAL")

  # A random pause, so the kill lands anywhere in the probe interval rather than at a fixed
  # distance after the previous trial's last probe.
  delay_ms=$((RANDOM % interval_ms + 200))
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"

  mark=$(wc -l <"$BENCH_OUT/vigil/stderr")
  # In one group with stderr discarded, so bash's "Killed" job notice does not clutter the output.
  {
    kill -KILL "${BACKEND_PIDS[i]}"
    t_kill=$(now_us)
    wait "${BACKEND_PIDS[i]}" || true
  } 2>/dev/null
  forget_pid "${BACKEND_PIDS[i]}"
  read -r out polls_out _ < <(wait_answer out "$addr" "$t_kill")
  down=$(log_change_after "$mark" "$addr" notup "$t_kill")

  # The same before the restart: right after the kill was noticed, the next probe is nearly a full
  # interval away, which would make every restore look as slow as it can be.
  delay_ms=$((RANDOM % interval_ms + 200))
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"

  mark=$(wc -l <"$BENCH_OUT/vigil/stderr")
  : >"$BENCH_OUT/backends/$addr.stdout"
  t_start=$(now_us)
  start_backend "$i"
  read -r in polls_in listen < <(wait_answer in "$addr" "$t_start" "$BENCH_OUT/backends/$addr.stdout")
  up=$(log_change_after "$mark" "$addr" up "$t_start")
  if [[ $listen == inf ]]; then
    wait_listening "$i" || warn "trial $n: backend $addr did not come back"
  fi

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$addr" "$out" "$down" "$listen" "$in" "$up" \
    "$polls_out" "$polls_in" >>"$RESULTS_TSV"
  log "$(printf 'trial %2d/%d %-10s killed -> out of answer %6s s (marked down %6s s) | restarted -> listening %5s s, in answer %6s s (marked up %6s s)' \
    "$n" "$BENCH_TRIALS" "$addr" "$out" "$down" "$listen" "$in" "$up")"
  [[ $out == inf ]] && warn "trial $n: $addr still answered ${BENCH_WAIT_MAX} s after it was killed"
  [[ $in == inf ]] && warn "trial $n: $addr not answered ${BENCH_WAIT_MAX} s after it was restarted"
  return 0
}

# ---------------------------------------------------------------------------------------------
# Report

# row LABEL COLUMN [NOTE]: distribution of a trials.tsv column.
row() {
  local label=$1 col=$2 note=${3:-} n min p50 p95 max
  read -r n min p50 p95 max < <(awk -F'\t' -v c="$col" '$c != "-" { print $c }' "$RESULTS_TSV" | dist_stats 2)
  printf '%-26s %4s %7s %7s %7s %7s   %s\n' "$label" "$n" "$min" "$p50" "$p95" "$max" "$note"
}

report() {
  local p95_out goal
  read -r _ _ _ p95_out _ < <(cut -f3 "$RESULTS_TSV" | dist_stats 2)
  if [[ $p95_out != inf ]] && awk -v x="$p95_out" 'BEGIN { exit !(x < 3) }'; then goal="met"; else goal="NOT met"; fi

  printf '\nvigil failover: %s trials, %s check every %s (timeout %s), down after %s failures, up after %s successes\n' \
    "$BENCH_TRIALS" "$BENCH_CHECK" "$BENCH_INTERVAL" "$BENCH_TIMEOUT" "$BENCH_FAILURES" "$BENCH_SUCCESSES"
  printf '%s backends on 127.0.0.2-%s:%s (one killed per trial, in turn), flap damping off, TTL %s s\n\n' \
    "$BENCH_BACKENDS" "${BACKEND_ADDRS[-1]##*.}" "$BACKEND_PORT" "$TTL"
  printf '%-26s %4s %7s %7s %7s %7s   (seconds)\n' "" n min median p95 max
  row "kill -> out of answer" 3 "dig (resolution: one poll, see below)"
  row "kill -> marked down" 4 "vigil's \"backend state changed\" log line"
  row "restart -> listening" 5 "backend process start-up"
  row "restart -> back in answer" 6 "dig"
  row "restart -> marked up" 7 "vigil's log line"
  printf '\ngoal: p95 kill -> out of answer under 3 s: %s (%s s)\n' "$goal" "$p95_out"

  awk -F'\t' '$3 != "inf" && $6 != "inf" { s += $3 + $6; p += $8 + $9 }
    END { if (p) printf "dig polls: one every %.0f ms on average (a %s ms pause + dig itself): the resolution of the dig rows\n", 1000 * s / p, ms }' \
    ms="$BENCH_POLL_MS" "$RESULTS_TSV"

  cat <<EOF

For context, published figures (NOT measured here; other systems, other setups):
  k8gb                     ~35 s    published figure: failover time in k8gb's own failover test with its
                                    default 30 s DNS TTL (k8gb docs on TTL/failover; k8gb-io/k8gb PR #81)
  Route 53 health checks   30-90 s  published figure: health checks every 10 s (fast) or 30 s, failure
                                    threshold 3, plus the record's TTL (AWS Route 53 Developer Guide)
  vigil, this run          p95 ${p95_out} s   measured: kill -> vigil's authoritative answer changes. A client
                                    behind a caching resolver sees it up to one TTL (${TTL} s here) later.
EOF
  if [[ -s $NOTES_FILE ]]; then
    printf '\nnotes:\n'
    sed 's/^/  /' "$NOTES_FILE"
  fi
  printf '\nconfig: %s\n' "$BENCH_OUT/vigil/vigil.yaml"
  grep -E '^\s+(health_check|flap_damping|ttl):' "$BENCH_OUT/vigil/vigil.yaml" | sed 's/^ */  /'
  printf 'vigil: %s\n' "$(head -n 1 "$BENCH_OUT/vigil/version.txt" 2>/dev/null || echo unknown)"
  printf 'per-trial times: %s\nraw outputs: %s\n' "$RESULTS_TSV" "$BENCH_OUT"
}

# ---------------------------------------------------------------------------------------------

main() {
  check_tools
  mkdir -p "$BENCH_OUT/vigil" "$BENCH_OUT/backends"
  BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
  RESULTS_TSV=$BENCH_OUT/trials.tsv
  COMMANDS_FILE=$BENCH_OUT/commands.txt
  NOTES_FILE=$BENCH_OUT/notes.txt
  : >"$RESULTS_TSV"
  : >"$COMMANDS_FILE"
  : >"$NOTES_FILE"
  check_settings

  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'exit 143' TERM

  # This shell, dig and the backends run on the client core; vigil alone on the server core.
  ((PINNED)) && taskset -cp "$BENCH_CLIENT_CPU" $$ >/dev/null

  {
    printf 'date: %s\nhost: %s\nkernel: %s\ncpus: %s (%s)\n' "$(date -Is)" "$(hostname)" "$(uname -r)" \
      "$(nproc)" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'git: %s\n' "$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'settings: BENCH_TRIALS=%s BENCH_CHECK=%s BENCH_INTERVAL=%s BENCH_TIMEOUT=%s BENCH_FAILURES=%s BENCH_SUCCESSES=%s BENCH_BACKENDS=%s BENCH_POLL_MS=%s BENCH_WAIT_MAX=%s server_cpu=%s client_cpu=%s pinned=%s\n' \
      "$BENCH_TRIALS" "$BENCH_CHECK" "$BENCH_INTERVAL" "$BENCH_TIMEOUT" "$BENCH_FAILURES" "$BENCH_SUCCESSES" \
      "$BENCH_BACKENDS" "$BENCH_POLL_MS" "$BENCH_WAIT_MAX" "$BENCH_SERVER_CPU" "$BENCH_CLIENT_CPU" "$PINNED"
  } >"$BENCH_OUT/system.txt"
  log "results in $BENCH_OUT"

  local i
  BACKEND_PORT=$(free_port 18080) || die "no free port for the backends"
  for ((i = 0; i < BENCH_BACKENDS; i++)); do
    BACKEND_ADDRS[i]=127.0.$((i / 254)).$((i % 254 + 2))
    : >"$BENCH_OUT/backends/${BACKEND_ADDRS[$i]}.stderr"
    record_command "$BUN" "$BENCH_DIR/http-backend.ts" "${BACKEND_ADDRS[$i]}" "$BACKEND_PORT"
    start_backend "$i"
  done
  for ((i = 0; i < BENCH_BACKENDS; i++)); do wait_listening "$i" || die "backends did not start"; done
  log "backends listening on 127.0.0.2-${BACKEND_ADDRS[-1]##*.}:$BACKEND_PORT"

  log "starting vigil"
  start_vigil "$BENCH_OUT/vigil" || die "vigil did not start (see $BENCH_OUT/vigil/)"
  wait_first_round "$BENCH_OUT/vigil/stderr" || die "no first probe round"
  # Every backend answered before the first trial.
  local addrs t0
  t0=$(now_us)
  while :; do
    addrs=$(answer_addrs | sort | tr '\n' ' ')
    [[ $addrs == "$(printf '%s\n' "${BACKEND_ADDRS[@]}" | sort | tr '\n' ' ')" ]] && break
    (($(now_us) - t0 < 10000000)) || die "not every backend is in the answer after 10 s: $addrs"
    sleep 0.1
  done
  log "vigil on 127.0.0.1:$SERVER_PORT (pid $SERVER_PID, core $BENCH_SERVER_CPU) answers ${BACKEND_ADDRS[*]}"

  local n
  for ((n = 1; n <= BENCH_TRIALS; n++)); do trial "$n"; done

  kill -0 "$SERVER_PID" 2>/dev/null || warn "vigil exited during the run"
  local errors
  errors=$(grep -c '"level":"\(warn\|error\)"' "$BENCH_OUT/vigil/stderr" || true)
  ((errors == 0)) || warn "vigil logged $errors warn/error lines (see $BENCH_OUT/vigil/stderr)"
  log "stopping"
  stop_server "$SERVER_PID"

  report | tee "$BENCH_OUT/summary.txt"
}

main "$@"
