# shellcheck shell=bash
# lib.sh: shell functions shared by the benchmark scripts (bench-dns.sh, bench-failover.sh,
# bench-probes-scale.sh). Sourced, never run; it defines functions only and sets nothing.
#
# The functions read the caller's globals:
#   BENCH_OUT, RESULTS_TSV, COMMANDS_FILE, NOTES_FILE   results directory and its files
#   STARTED_PIDS (array), CLAIMED_PORTS (array)          processes to stop on exit, ports handed out
#   SERVER_PID, SERVER_PORT                              the server being measured
#   BENCH_SERVER_CPU, BENCH_CLIENT_CPU                   cores for the server and for dnsperf
#   BENCH_SECONDS, BENCH_WARMUP, BENCH_P99_SECONDS, BENCH_CLIENTS, BENCH_OUTSTANDING,
#   BENCH_QUERIES, BENCH_SEED, BENCH_SCENARIOS           dnsperf runs and query files
#   BENCH_DIR, SCENARIO_DIR, ZONE, RECORDS_FILE, SERVICES_FILE   scripts/bench and the zone data
#   VIGIL_BIN, VIGIL_BIN_DEFAULT, BENCH_BUILD             which vigil binary, and whether to build it

# ---------------------------------------------------------------------------------------------
# Small helpers

log() { printf '[bench] %s\n' "$*" >&2; }
warn() { printf '[bench] WARNING: %s\n' "$*" >&2; printf '%s\n' "$*" >>"$NOTES_FILE"; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# Log a command line (shell-quoted) to commands.txt.
record_command() {
  local q
  printf -v q '%q ' "$@"
  printf '%s\n' "${q% }" >>"$COMMANDS_FILE"
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Wall clock in microseconds.
now_us() { local t=${EPOCHREALTIME/./}; printf '%s' "$((10#$t))"; }

# A port free for both UDP and TCP on loopback, at or above $1, not handed out before in this run.
free_port() {
  local p=$1 end=$(($1 + 1000)) c
  for ((; p < end; p++)); do
    for c in "${CLAIMED_PORTS[@]}"; do [[ $c == "$p" ]] && continue 2; done
    if [[ -z $(ss -Hlnu "sport = :$p" 2>/dev/null) && -z $(ss -Hlnt "sport = :$p" 2>/dev/null) ]]; then
      CLAIMED_PORTS+=("$p")
      printf '%s' "$p"
      return 0
    fi
  done
  return 1
}

# PID and all its descendants (children first found breadth-first), one per line.
proc_tree() {
  local -a queue=("$1") all=()
  local pid child
  while ((${#queue[@]})); do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    all+=("$pid")
    while read -r child; do
      [[ -n $child ]] && queue+=("$child")
    done < <(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  done
  printf '%s\n' "${all[@]}"
}

# utime+stime (clock ticks, all threads) of PID and its descendants. Field 2 (comm) may contain
# spaces, so the fields are counted from the closing parenthesis.
tree_cpu_ticks() {
  local total=0 pid t
  while read -r pid; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || true)
    [[ -n $t ]] && total=$((total + t))
  done < <(proc_tree "$1")
  printf '%s' "$total"
}

# "busy total" clock ticks of core N from /proc/stat (busy = everything but idle and iowait).
core_ticks() {
  awk -v cpu="cpu$1" '$1 == cpu { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# Percent busy of core N over ~1 s.
core_busy_pct() {
  local b0 t0 b1 t1
  read -r b0 t0 < <(core_ticks "$1")
  sleep 1
  read -r b1 t1 < <(core_ticks "$1")
  awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }'
}

# Stop a process we started, and its descendants: TERM, up to 5 s grace, then KILL.
stop_tree() {
  local root=$1 pid i
  local -a pids=()
  kill -0 "$root" 2>/dev/null || { wait "$root" 2>/dev/null || true; return 0; }
  mapfile -t pids < <(proc_tree "$root")
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
  wait "$root" 2>/dev/null || true
}

forget_pid() {
  local p
  local -a keep=()
  for p in "${STARTED_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

# Stop a server started by this script and forget it.
stop_server() {
  stop_tree "$1"
  forget_pid "$1"
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${STARTED_PIDS[@]}"; do stop_tree "$pid"; done
  exit "$rc"
}

# Zone data without comment lines, blank lines or trailing comments.
zone_records() {
  awk '{ sub(/[ \t]*;.*$/, "") } NF' "$RECORDS_FILE"
}

# Services as "name ttl address..." lines.
services() {
  awk '{ sub(/#.*/, "") } NF >= 3' "$SERVICES_FILE"
}

# Poll until the server answers the SOA (at most ~10 s) or its process exits.
wait_ready() {
  local port=$1 pid=$2 deadline answer
  deadline=$(($(now_us) + 10000000))
  while (($(now_us) < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server (pid $pid) exited before answering"
      return 1
    fi
    answer=$(dig @127.0.0.1 -p "$port" "$ZONE" SOA +short +norec +time=1 +tries=1 2>/dev/null || true)
    if [[ -n $answer && $answer != ';'* ]]; then
      return 0
    fi
    sleep 0.1
  done
  log "no SOA answer on 127.0.0.1:$port within 10 s"
  return 1
}

# Build dist/vigil when missing or older than its sources (BENCH_BUILD=auto), or always.
ensure_vigil_binary() {
  local dir=$1 build=0
  if [[ $VIGIL_BIN != "$VIGIL_BIN_DEFAULT" ]]; then
    [[ -x $VIGIL_BIN ]] || { log "VIGIL_BIN=$VIGIL_BIN is not executable"; return 1; }
    return 0
  fi
  if [[ ! -x $VIGIL_BIN ]]; then
    build=1
  elif [[ $BENCH_BUILD == always ]]; then
    build=1
  elif [[ $BENCH_BUILD == auto && -n $(find src package.json scripts/build.ts -newer "$VIGIL_BIN" -print -quit 2>/dev/null) ]]; then
    log "dist/vigil is older than its sources; rebuilding (BENCH_BUILD=never to skip)"
    build=1
  fi
  if ((build)); then
    [[ $BENCH_BUILD == never && ! -x $VIGIL_BIN ]] && { log "dist/vigil missing and BENCH_BUILD=never"; return 1; }
    log "building dist/vigil (npm run build)"
    record_command npm run build
    if ! npm run build >"$dir/build.log" 2>&1; then
      log "npm run build failed; last lines of $dir/build.log:"
      tail -n 30 "$dir/build.log" >&2
      return 1
    fi
  fi
}

# ---------------------------------------------------------------------------------------------
# Scenarios: scripts/bench/scenarios/NAME.mix -> a dnsperf query file + extra dnsperf flags.

list_scenarios() {
  local f
  if [[ -n $BENCH_SCENARIOS ]]; then
    # shellcheck disable=SC2086 # a space-separated list
    printf '%s\n' $BENCH_SCENARIOS
  else
    # Byte order, whatever the locale: each scenario comes right before its "-do" variant.
    for f in "$SCENARIO_DIR"/*.mix; do basename "$f" .mix; done | LC_ALL=C sort
  fi
}

# A scenario's mix with every "@include NAME" replaced by the lines of NAME.mix, less its
# "@dnsperf" lines (a scenario's flags are its own). Includes nest up to 5 deep.
expand_mix() {
  local name=$1 depth=${2:-0} mix=$SCENARIO_DIR/$1.mix line
  [[ -f $mix ]] || die "no scenario file $mix"
  ((depth <= 5)) || die "scenario $name: @include nested too deep"
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*@include[[:space:]]+([A-Za-z0-9._-]+) ]]; then
      expand_mix "${BASH_REMATCH[1]}" $((depth + 1)) | awk '$1 != "@dnsperf"'
    else
      printf '%s\n' "$line"
    fi
  done <"$mix"
}

# make_queries NAME OUTFILE [PASS]: the dnsperf query file of a scenario. PASS (0 when not given)
# only matters for "[random]" names: each pass draws other labels.
make_queries() {
  local name=$1 out=$2 pass=${3:-0}
  expand_mix "$name" >"$out.mix" || return 1
  awk -v zone="$ZONE" -v total="$BENCH_QUERIES" -v seed="$BENCH_SEED" -v pass="$pass" \
    -f "$BENCH_DIR/gen-queries.awk" "$out.mix" >"$out" || die "cannot generate the queries of scenario $name"
  rm -f "$out.mix"
}

# Does the scenario ask "[random]" names (a flood of names no cache can hold)?
scenario_is_random() {
  expand_mix "$1" | awk '{ sub(/#.*/, "") } /^[ \t]*@/ { next } index($0, "[random]") { found = 1 } END { exit !found }'
}

# prepare_queries NAME OUTFILE: OUTFILE serves the warm-up and the data check. A scenario with
# "[random]" names also gets OUTFILE with ".measured.txt" and ".latency.txt" for its other passes,
# with other names, so that no pass asks a name an earlier pass left in a response cache.
prepare_queries() {
  make_queries "$1" "$2" 0
  if scenario_is_random "$1"; then
    make_queries "$1" "${2%.txt}.measured.txt" 1
    make_queries "$1" "${2%.txt}.latency.txt" 2
  fi
}

# The query file of one pass (measured, latency) of QUERYFILE: its own when prepare_queries made one.
pass_queries() {
  local f=${1%.txt}.$2.txt
  if [[ -f $f ]]; then printf '%s' "$f"; else printf '%s' "$1"; fi
}

# Extra dnsperf flags of a scenario ("@dnsperf FLAGS" lines), one per line.
scenario_flags() {
  awk '$1 == "@dnsperf" { for (i = 2; i <= NF; i++) print $i }' "$SCENARIO_DIR/$1.mix"
}

# Does the scenario set the DO bit (dnsperf -D), i.e. ask for signed answers?
scenario_wants_dnssec() {
  scenario_flags "$1" | grep -qx -- '-D'
}

# ---------------------------------------------------------------------------------------------
# Measuring

# run_dnsperf SERVER_PORT QUERYFILE LABEL SECONDS [EXTRA DNSPERF ARGS...]
# Runs dnsperf pinned to BENCH_CLIENT_CPU at max rate (no -Q); output in $BENCH_OUT/LABEL.txt.
run_dnsperf() {
  local port=$1 qfile=$2 label=$3 seconds=$4
  shift 4
  local -a cmd=(taskset -c "$BENCH_CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$qfile"
    -l "$seconds" -c "$BENCH_CLIENTS" -q "$BENCH_OUTSTANDING" -T 1 "$@")
  record_command "${cmd[@]}"
  local rc=0 pid
  # In the background and waited for, so that a TERM/INT trap runs at once (bash defers traps
  # while a foreground child runs) and cleanup() stops dnsperf too.
  "${cmd[@]}" >"$BENCH_OUT/$label.txt" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  # dnsperf catches SIGINT, prints its statistics and exits 0, and bash then skips its own INT
  # trap: notice the Ctrl-C here so it stops the whole run.
  if grep -q 'Testing complete (interruption)' "$BENCH_OUT/$label.txt"; then
    log "interrupted"
    exit 130
  fi
  if ((rc != 0)); then
    log "dnsperf failed (see $BENCH_OUT/$label.txt)"
    tail -n 5 "$BENCH_OUT/$label.txt" >&2
    return 1
  fi
}

# Statistics of a dnsperf output as "sent completed lost qps avg_s resp_bytes run_time_s".
parse_dnsperf() {
  awk '
    /Queries sent:/        { sent = $3 }
    /Queries completed:/   { completed = $3 }
    /Queries lost:/        { lost = $3 }
    /Queries per second:/  { qps = $4 }
    /Average Latency \(s\):/ { avg = $4 }
    /Average packet size:/ { resp = $NF }
    /Run time \(s\):/      { runtime = $4 }
    END {
      if (qps == "") exit 1
      print sent + 0, completed + 0, lost + 0, qps, avg, resp + 0, runtime + 0
    }' "$1"
}

# measure SERVER SCENARIO QUERYFILE: warm-up, measured run with CPU accounting, latency pass;
# appends one row to results.tsv. The measured run and the latency pass use their own query files
# when prepare_queries made them ("[random]" scenarios), else QUERYFILE.
measure() {
  local server=$1 scenario=$2 qfile=$3 label="$2-$1"
  local -a flags=()
  mapfile -t flags < <(scenario_flags "$scenario")
  local hz completed lost qps avg resp runtime
  hz=$(getconf CLK_TCK)

  if ((BENCH_WARMUP > 0)); then
    log "$label: warm-up ${BENCH_WARMUP}s"
    run_dnsperf "$SERVER_PORT" "$qfile" "$label-warmup" "$BENCH_WARMUP" "${flags[@]}" || return 1
  fi

  log "$label: measuring ${BENCH_SECONDS}s"
  local t0 t1 c0 c1 sb0 sb1 cb0 cb1
  read -r sb0 _ < <(core_ticks "$BENCH_SERVER_CPU")
  read -r cb0 _ < <(core_ticks "$BENCH_CLIENT_CPU")
  c0=$(tree_cpu_ticks "$SERVER_PID")
  t0=$(now_us)
  run_dnsperf "$SERVER_PORT" "$(pass_queries "$qfile" measured)" "$label" "$BENCH_SECONDS" "${flags[@]}" || return 1
  t1=$(now_us)
  c1=$(tree_cpu_ticks "$SERVER_PID")
  read -r sb1 _ < <(core_ticks "$BENCH_SERVER_CPU")
  read -r cb1 _ < <(core_ticks "$BENCH_CLIENT_CPU")
  kill -0 "$SERVER_PID" 2>/dev/null || { log "$server died during the run"; return 1; }

  read -r _ completed lost qps avg resp runtime < <(parse_dnsperf "$BENCH_OUT/$label.txt") ||
    { log "cannot parse $BENCH_OUT/$label.txt"; return 1; }

  # Server CPU, and how busy both cores were: is the server the bottleneck, and did anything
  # else run on its core? Percentages are over dnsperf's sending time ("Run time"): when queries
  # are lost dnsperf then idles up to its 5 s timeout, which would dilute a wall-clock figure.
  local row
  row=$(awk -v ticks=$((c1 - c0)) -v hz="$hz" -v wall_us=$((t1 - t0)) -v runtime="$runtime" \
    -v done="$completed" -v sb=$((sb1 - sb0)) -v cb=$((cb1 - cb0)) '
    BEGIN {
      active = runtime > 0 ? runtime : wall_us / 1e6
      cpu_s = ticks / hz
      per100k = done > 0 ? cpu_s / done * 100000 : 0
      srv_pct = active > 0 ? 100 * cpu_s / active : 0
      core_s = active > 0 ? 100 * sb / hz / active : 0
      core_c = active > 0 ? 100 * cb / hz / active : 0
      printf "%.2f %.4f %.0f %.0f %.0f", cpu_s, per100k, srv_pct, core_s, core_c
    }')
  local cpu_s per100k srv_pct core_s core_c
  read -r cpu_s per100k srv_pct core_s core_c <<<"$row"

  if ((core_s - srv_pct > 15)); then
    warn "$label: core $BENCH_SERVER_CPU was ${core_s}% busy but the server used ${srv_pct}% of a core: something else ran there (or loopback softirq work); qps understates the server"
  fi
  if ((srv_pct < 85 && core_c >= 90)); then
    warn "$label: server at ${srv_pct}% of a core while dnsperf's core was ${core_c}% busy: client-bound, qps understates the server"
  fi
  if ((lost > 0)); then
    warn "$label: $lost queries lost (no answer within dnsperf's 5 s timeout; usually the server's socket buffer overflowing: try a lower BENCH_OUTSTANDING)"
  fi

  # p99: a separate, shorter pass with per-query output (dnsperf 2.10 has no histogram).
  local pct="n=0 timeouts=0 p50_ms=- p90_ms=- p99_ms=- p999_ms=- max_ms=-" lat_qps="-"
  if ((BENCH_P99_SECONDS > 0)); then
    log "$label: latency pass ${BENCH_P99_SECONDS}s (dnsperf -v)"
    if run_dnsperf "$SERVER_PORT" "$(pass_queries "$qfile" latency)" "$label-latency" "$BENCH_P99_SECONDS" -v "${flags[@]}"; then
      pct=$(awk -v tmp="$BENCH_OUT/.latencies" -f "$BENCH_DIR/percentiles.awk" "$BENCH_OUT/$label-latency.txt")
      rm -f "$BENCH_OUT/.latencies"
      lat_qps=$(parse_dnsperf "$BENCH_OUT/$label-latency.txt" | awk '{ printf "%.0f", $4 }') || lat_qps="-"
      # Keep the per-query lines, compressed; the statistics stay readable in the .txt.
      grep -v '^> ' "$BENCH_OUT/$label-latency.txt" >"$BENCH_OUT/$label-latency.stats.txt" || true
      gzip -f "$BENCH_OUT/$label-latency.txt"
    fi
  fi
  printf '%s %s\n' "$label" "$pct" >>"$BENCH_OUT/latency.txt"
  local p50 p99
  p50=$(sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p' <<<"$pct")
  p99=$(sed -n 's/.*p99_ms=\([^ ]*\).*/\1/p' <<<"$pct")

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$scenario" "$server" "$qps" "$avg" "$p50" "$p99" "$per100k" "$lost" "$resp" \
    "$srv_pct" "$core_s" "$core_c" "$completed" "$cpu_s" "$lat_qps" >>"$RESULTS_TSV"
}

# ---------------------------------------------------------------------------------------------
# Report

# print_table "SERVER..." : the rows of results.tsv, then per scenario the ratios of every server
# against the first server of the list that has a row for that scenario (the baseline: NSD for
# the unsigned scenarios, Knot for the signed ones, which NSD does not run).
print_table() {
  local order=$1
  printf '\n'
  awk -F'\t' '
    BEGIN { fmt = "%-18s %-7s %9s %8s %8s %8s %11s %7s %7s %9s\n"
            printf fmt, "scenario", "server", "qps", "avg_ms", "p50_ms", "p99_ms", "cpu_s/100k", "lost", "resp_B", "srv_cpu%" }
    $3 == "FAILED" { printf fmt, $1, $2, "FAILED", "-", "-", "-", "-", "-", "-", "-"; next }
    { printf fmt, $1, $2, sprintf("%.0f", $3), sprintf("%.3f", $4 * 1000), $5, $6, sprintf("%.3f", $7), $8, $9, $10 }
  ' "$RESULTS_TSV"
  printf '\n'
  awk -F'\t' -v order="$order" '
    BEGIN { nv = split(order, servers, " ") }
    $3 != "FAILED" { qps[$1, $2] = $3; cpu[$1, $2] = $7; p99[$1, $2] = $6; seen[$1, $2] = 1
                     if (!($1 in sc)) { sc[$1] = 1; scenarios[++ns] = $1 } }
    END {
      for (i = 1; i <= ns; i++) {
        s = scenarios[i]; base = ""
        for (j = 1; j <= nv; j++) if (seen[s, servers[j]]) { base = servers[j]; break }
        if (base == "") continue
        for (j = 1; j <= nv; j++) {
          v = servers[j]
          if (v == base || !seen[s, v]) continue
          r = sprintf("ratio %s/%s (%s): qps %.2f  cpu/100k %.2f", v, base, s, qps[s, v] / qps[s, base],
                      cpu[s, base] > 0 ? cpu[s, v] / cpu[s, base] : 0)
          if (p99[s, v] ~ /^[0-9.]+$/ && p99[s, base] ~ /^[0-9.]+$/ && p99[s, base] > 0)
            r = r sprintf("  p99 %.2f", p99[s, v] / p99[s, base])
          print r
        }
      }
    }' "$RESULTS_TSV"
}

# ---------------------------------------------------------------------------------------------
# Distributions (bench-failover.sh, bench-probes-scale.sh)

# Values on stdin, one per line ("inf" = never happened within the bound) ->
# "n min p50 p95 max" with nearest-rank percentiles, DECIMALS places; "-" for each when n = 0.
# An "inf" sorts above every number, so one in 20 values makes max "inf" and two make p95 "inf".
dist_stats() {
  local decimals=${1:-2}
  awk -v d="$decimals" '
    NF { v[++n] = ($1 == "inf" ? "inf" : $1 + 0) }
    function rank(p,   r) { r = int(p / 100 * n); if (r < p / 100 * n) r++; return r < 1 ? 1 : r }
    function fmt(x) { return x == "inf" ? "inf" : sprintf("%." d "f", x) }
    function less(a, b) { return a == "inf" ? 0 : (b == "inf" ? 1 : a < b) }
    END {
      if (n == 0) { print "0 - - - -"; exit }
      for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && less(x, v[j]); j--) v[j + 1] = v[j]; v[j + 1] = x }
      print n, fmt(v[1]), fmt(v[rank(50)]), fmt(v[rank(95)]), fmt(v[n])
    }'
}
