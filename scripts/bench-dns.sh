#!/usr/bin/env bash
# bench-dns.sh: serve the same zone from vigil and from NSD on this machine and drive each in turn
# with dnsperf, the server pinned to one core and dnsperf to another, one server worker each.
# Prints qps, average and p99 latency, server CPU seconds per 100k queries, and vigil/NSD ratios.
# See docs/benchmarks.md for how to read the numbers.
#
#   scripts/bench-dns.sh                      # all servers x all scenarios, 15 s per measured run
#   BENCH_SECONDS=30 BENCH_SERVERS=nsd scripts/bench-dns.sh
#
# Settings (environment):
#   BENCH_SECONDS      measured run length, s (15)
#   BENCH_WARMUP       unmeasured run before it, s (3); warms caches and vigil's JIT
#   BENCH_P99_SECONDS  separate `dnsperf -v` pass for latency percentiles, s (5; 0 = skip)
#   BENCH_CLIENTS      dnsperf -c (10)          BENCH_OUTSTANDING  dnsperf -q (100)
#   BENCH_QUERIES      lines in each generated query file (10000)   BENCH_SEED  shuffle seed (1)
#   BENCH_SERVERS      servers, in order; the first is the ratio baseline ("nsd vigil")
#   BENCH_SCENARIOS    scenario names = scripts/bench/scenarios/NAME.mix (all of them)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU   cores for the server / for dnsperf (0 / 1)
#   BENCH_BUILD        auto (build dist/vigil if missing or older than src/), always, never
#   BENCH_NSD_MINIMAL  NSD minimal-responses (yes): no authority NS / glue on every answer, like vigil
#   BENCH_OUT          results directory (/tmp/vigil-bench-YYYYmmdd-HHMMSS)
#   VIGIL_BIN          the vigil binary (dist/vigil; never rebuilt when set)
#
# Adding a server: write start_NAME (set SERVER_PID, SERVER_PORT; return non-zero on failure) and
# put NAME in BENCH_SERVERS. Adding a scenario: drop a .mix file into scripts/bench/scenarios/.

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=$SCRIPT_DIR/bench
cd "$REPO_ROOT"

BENCH_SECONDS=${BENCH_SECONDS:-15}
BENCH_WARMUP=${BENCH_WARMUP:-3}
BENCH_P99_SECONDS=${BENCH_P99_SECONDS:-5}
BENCH_CLIENTS=${BENCH_CLIENTS:-10}
BENCH_OUTSTANDING=${BENCH_OUTSTANDING:-100}
BENCH_QUERIES=${BENCH_QUERIES:-10000}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_SERVERS=${BENCH_SERVERS:-nsd vigil}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-}
BENCH_SERVER_CPU=${BENCH_SERVER_CPU:-0}
BENCH_CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
BENCH_BUILD=${BENCH_BUILD:-auto}
BENCH_NSD_MINIMAL=${BENCH_NSD_MINIMAL:-yes}
BENCH_OUT=${BENCH_OUT:-/tmp/vigil-bench-$(date +%Y%m%d-%H%M%S)}
VIGIL_BIN_DEFAULT=$REPO_ROOT/dist/vigil
VIGIL_BIN=${VIGIL_BIN:-$VIGIL_BIN_DEFAULT}

ZONE=bench.test
RECORDS_FILE=$BENCH_DIR/zone/records.zone
SERVICES_FILE=$BENCH_DIR/zone/services.txt
SCENARIO_DIR=$BENCH_DIR/scenarios

RESULTS_TSV=$BENCH_OUT/results.tsv
COMMANDS_FILE=$BENCH_OUT/commands.txt
NOTES_FILE=$BENCH_OUT/notes.txt

STARTED_PIDS=()
CLAIMED_PORTS=()
FAILED=0
SERVER_PID=
SERVER_PORT=

# ---------------------------------------------------------------------------------------------
# Helpers shared with the other benchmarks (scripts/bench/lib.sh): logging, ports, process trees
# and their CPU time, stopping what was started, building vigil, scenarios, dnsperf runs, the table.

# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------------------------------------
# Checks

check_tools() {
  local missing=() t
  for t in dnsperf taskset dig getconf ss awk sort gzip; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [[ " $BENCH_SERVERS " == *" nsd "* ]]; then
    for t in nsd nsd-checkconf nsd-checkzone; do
      command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("$t")
    done
  fi
  if ((${#missing[@]})); then
    printf 'bench-dns: missing tools: %s\n' "${missing[*]}" >&2
    printf 'install them with:\n  apt-get install nsd dnsperf bind9-dnsutils util-linux\n' >&2
    exit 2
  fi
}

nsd_tool() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; else printf '/usr/sbin/%s' "$1"; fi
}

check_settings() {
  local v
  for v in BENCH_SECONDS BENCH_WARMUP BENCH_P99_SECONDS BENCH_CLIENTS BENCH_OUTSTANDING \
    BENCH_QUERIES BENCH_SEED BENCH_SERVER_CPU BENCH_CLIENT_CPU; do
    is_uint "${!v}" || die "$v must be a non-negative integer (got '${!v}')"
  done
  ((BENCH_SECONDS > 0)) || die "BENCH_SECONDS must be > 0"
  case $BENCH_BUILD in auto | always | never) ;; *) die "BENCH_BUILD must be auto, always or never" ;; esac
  case $BENCH_NSD_MINIMAL in yes | no) ;; *) die "BENCH_NSD_MINIMAL must be yes or no" ;; esac
  taskset -c "$BENCH_SERVER_CPU" true 2>/dev/null || die "cannot pin to core $BENCH_SERVER_CPU (BENCH_SERVER_CPU)"
  taskset -c "$BENCH_CLIENT_CPU" true 2>/dev/null || die "cannot pin to core $BENCH_CLIENT_CPU (BENCH_CLIENT_CPU)"
  if ((BENCH_SERVER_CPU == BENCH_CLIENT_CPU)); then
    warn "server and dnsperf share core $BENCH_SERVER_CPU: throughput numbers measure both"
  fi
}

# ---------------------------------------------------------------------------------------------
# Servers. start_NAME DIR: start the server pinned to BENCH_SERVER_CPU, logs and files in DIR;
# set SERVER_PID and SERVER_PORT; wait until it answers; non-zero (after saying why) on failure.

start_nsd() {
  local dir=$1 port name ttl addr
  local nsd checkconf checkzone
  nsd=$(nsd_tool nsd)
  checkconf=$(nsd_tool nsd-checkconf)
  checkzone=$(nsd_tool nsd-checkzone)
  port=$(free_port 5300) || { log "no free port"; return 1; }

  {
    # shellcheck disable=SC2016 # $ORIGIN and $TTL are zone-file directives
    printf '$ORIGIN %s.\n$TTL 300\n' "$ZONE"
    printf '@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 604800 300\n' "$ZONE" "$ZONE"
    printf '@ IN NS ns1\nns1 IN A 127.0.0.1\n'
    zone_records
    # Services become plain address records: the same RRset vigil answers with.
    while read -r name ttl addr; do
      for addr in $addr; do
        if [[ $addr == *:* ]]; then
          printf '%s %s IN AAAA %s\n' "$name" "$ttl" "$addr"
        else
          printf '%s %s IN A %s\n' "$name" "$ttl" "$addr"
        fi
      done
    done < <(services)
  } >"$dir/$ZONE.zone"

  # rrl-ratelimit: Debian's NSD is built with response rate limiting on (200 qps per /24), which
  # would drop most of a benchmark's queries from 127.0.0.1. vigil gets no such limit either.
  # minimal-responses: by default NSD adds the zone's NS (and glue) to every positive answer;
  # vigil does not, so the packets (and the work) would not be comparable.
  cat >"$dir/nsd.conf" <<EOF
server:
  server-count: 1
  ip-address: 127.0.0.1@$port
  do-ip4: yes
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$dir"
  pidfile: "$dir/nsd.pid"
  database: ""
  xfrdfile: "$dir/xfrd.state"
  zonelistfile: "$dir/zone.list"
  logfile: "$dir/nsd.log"
  verbosity: 0
  hide-version: yes
  hide-identity: yes
  minimal-responses: $BENCH_NSD_MINIMAL
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0

remote-control:
  control-enable: no

zone:
  name: $ZONE
  zonefile: $ZONE.zone
EOF
  "$checkconf" "$dir/nsd.conf" >"$dir/checkconf.out" 2>&1 || { cat "$dir/checkconf.out" >&2; return 1; }
  "$checkzone" "$ZONE" "$dir/$ZONE.zone" >"$dir/checkzone.out" 2>&1 || { cat "$dir/checkzone.out" >&2; return 1; }

  record_command taskset -c "$BENCH_SERVER_CPU" "$nsd" -d -c "$dir/nsd.conf"
  taskset -c "$BENCH_SERVER_CPU" "$nsd" -d -c "$dir/nsd.conf" >"$dir/stdout" 2>"$dir/stderr" &
  SERVER_PID=$!
  SERVER_PORT=$port
  STARTED_PIDS+=("$SERVER_PID")
  if ! wait_ready "$port" "$SERVER_PID"; then
    tail -n 20 "$dir/stderr" "$dir/nsd.log" >&2 2>/dev/null || true
    return 1
  fi
}

start_vigil() {
  local dir=$1 port name ttl addrs addr
  ensure_vigil_binary "$dir" || return 1
  "$VIGIL_BIN" version >"$dir/version.txt" 2>&1 || true
  port=$(free_port 5400) || { log "no free port"; return 1; }
  mkdir -p "$dir/data"

  {
    cat <<EOF
# Generated by scripts/bench-dns.sh
mode: standalone
identity: { node_id: bench }
dns:
  listen_address: "127.0.0.1:$port"
  zones: [$ZONE]
  default_ttl: 300
  nameservers: [{ name: ns1.$ZONE, addresses: [127.0.0.1] }]
  records: |
EOF
    zone_records | sed 's/^/    /'
    cat <<EOF
data_dir: "$dir/data"
logging: { level: warn, format: json }
services:
EOF
    while read -r name ttl addrs; do
      printf '  - name: %s\n    policy: roundrobin\n    ttl: %s\n    backends:\n' "$name" "$ttl"
      for addr in $addrs; do printf '      - { address: "%s" }\n' "$addr"; done
    done < <(services)
  } >"$dir/vigil.yaml"

  record_command taskset -c "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml"
  taskset -c "$BENCH_SERVER_CPU" "$VIGIL_BIN" --config "$dir/vigil.yaml" >"$dir/stdout" 2>"$dir/stderr" &
  SERVER_PID=$!
  SERVER_PORT=$port
  STARTED_PIDS+=("$SERVER_PID")
  if ! wait_ready "$port" "$SERVER_PID"; then
    log "vigil stderr ($dir/stderr), last lines:"
    tail -n 40 "$dir/stderr" >&2 || true
    log "vigil stdout ($dir/stdout), last lines:"
    tail -n 10 "$dir/stdout" >&2 || true
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Data check

# Answers of every distinct query of a scenario (up to 300), one line per query:
# "qname qtype | status | answer RRs without TTL, sorted | authority/additional counts".
# The SOA's serial and timers are left out (vigil computes its own).
snapshot_answers() {
  local port=$1 qfile=$2 out=$3 qname qtype
  : >"$out"
  while read -r qname qtype; do
    dig @127.0.0.1 -p "$port" "$qname" "$qtype" +norec +nottlid +noall +comments +answer \
      +time=2 +tries=1 2>&1 |
      awk -v q="$qname $qtype" '
        /->>HEADER<<-/ { match($0, /status: [A-Z]+/); status = substr($0, RSTART + 8, RLENGTH - 8) }
        /^;; flags:/   { match($0, /AUTHORITY: [0-9]+/); auth = substr($0, RSTART + 11, RLENGTH - 11)
                         match($0, /ADDITIONAL: [0-9]+/); add = substr($0, RSTART + 12, RLENGTH - 12) }
        /^[^;]/ && NF  { if ($3 == "SOA") NF = 5; $1 = $1; rr[++n] = $0 }
        END {
          if (status == "") status = "NO-ANSWER"
          # insertion sort: few RRs per answer
          for (i = 2; i <= n; i++) { v = rr[i]; for (j = i - 1; j >= 1 && rr[j] > v; j--) rr[j + 1] = rr[j]; rr[j + 1] = v }
          s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "; " : "") rr[i]
          printf "%s | %s | %s | auth=%s add=%s\n", q, status, s, auth + 0, add + 0
        }'
  done < <(sort -u "$qfile" | head -n 300) >>"$out"
}

# compare_answers SCENARIO BASELINE_FILE OTHER_FILE: warn when the answer sections differ.
compare_answers() {
  local scenario=$1 base=$2 other=$3 bname oname diffs extras
  bname=$(basename "$base" .txt)
  oname=$(basename "$other" .txt)
  diffs=$(paste -d '\n' <(cut -d'|' -f1-3 "$base") <(cut -d'|' -f1-3 "$other") |
    awk 'NR % 2 == 1 { a = $0; next } a != $0 { print "  " a "\n  " $0 }')
  extras=$(paste -d '|' <(cut -d'|' -f4 "$base") <(cut -d'|' -f4 "$other") | awk -F'|' '$1 != $2' | wc -l)
  if [[ -n $diffs ]]; then
    warn "data check ($scenario): answers differ between $bname and $oname (line pairs: $bname, then $oname):"
    printf '%s\n' "$diffs" | tee -a "$NOTES_FILE" >&2
  else
    printf 'data check (%s): %s and %s give the same rcode and answer section for all %s distinct queries\n' \
      "$scenario" "$bname" "$oname" "$(wc -l <"$base")" | tee -a "$NOTES_FILE" >&2
  fi
  if ((extras > 0)); then
    printf 'data check (%s): authority/additional record counts differ on %s of %s queries (%s vs %s; see answers-*.txt)\n' \
      "$scenario" "$extras" "$(wc -l <"$base")" "$bname" "$oname" | tee -a "$NOTES_FILE" >&2
  fi
}

# ---------------------------------------------------------------------------------------------

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
  check_settings

  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'exit 143' TERM

  local -a servers scenarios
  read -r -a servers <<<"$BENCH_SERVERS"
  mapfile -t scenarios < <(list_scenarios)
  ((${#servers[@]})) || die "BENCH_SERVERS is empty"
  ((${#scenarios[@]})) || die "no scenarios"
  local s
  for s in "${servers[@]}"; do
    declare -F "start_$s" >/dev/null || die "unknown server '$s' (no start_$s function)"
  done

  log "results in $BENCH_OUT"
  {
    printf 'date: %s\nhost: %s\nkernel: %s\ncpus: %s (%s)\n' "$(date -Is)" "$(hostname)" "$(uname -r)" \
      "$(nproc)" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'dnsperf: %s\nnsd: %s\n' "$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')" \
      "$("$(nsd_tool nsd)" -v 2>&1 | head -n 1)"
    printf 'git: %s\n' "$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'settings: BENCH_SECONDS=%s BENCH_WARMUP=%s BENCH_P99_SECONDS=%s BENCH_CLIENTS=%s BENCH_OUTSTANDING=%s BENCH_QUERIES=%s BENCH_SEED=%s BENCH_NSD_MINIMAL=%s server_cpu=%s client_cpu=%s\n' \
      "$BENCH_SECONDS" "$BENCH_WARMUP" "$BENCH_P99_SECONDS" "$BENCH_CLIENTS" "$BENCH_OUTSTANDING" \
      "$BENCH_QUERIES" "$BENCH_SEED" "$BENCH_NSD_MINIMAL" "$BENCH_SERVER_CPU" "$BENCH_CLIENT_CPU"
  } >"$BENCH_OUT/system.txt"

  # Other load on the two cores makes every number here noisy; say so up front.
  local busy_s busy_c
  busy_s=$(core_busy_pct "$BENCH_SERVER_CPU")
  busy_c=$(core_busy_pct "$BENCH_CLIENT_CPU")
  printf 'idle check: core %s %s%% busy, core %s %s%% busy\n' "$BENCH_SERVER_CPU" "$busy_s" \
    "$BENCH_CLIENT_CPU" "$busy_c" >>"$BENCH_OUT/system.txt"
  if ((busy_s > 10 || busy_c > 10)); then
    warn "before starting: core $BENCH_SERVER_CPU ${busy_s}% busy, core $BENCH_CLIENT_CPU ${busy_c}% busy with other work; results will be noisy"
    ps -eo pid,psr,pcpu,etime,comm --sort=-pcpu | head -n 6 >&2
  fi

  local scenario server qfile
  for scenario in "${scenarios[@]}"; do
    make_queries "$scenario" "$BENCH_OUT/queries-$scenario.txt"
  done

  for server in "${servers[@]}"; do
    local dir=$BENCH_OUT/$server
    mkdir -p "$dir"
    log "starting $server"
    SERVER_PID=
    SERVER_PORT=
    if ! "start_$server" "$dir"; then
      warn "$server did not start (see $dir/); its rows are marked FAILED"
      FAILED=1
      for scenario in "${scenarios[@]}"; do
        printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
      done
      [[ -n $SERVER_PID ]] && stop_server "$SERVER_PID"
      continue
    fi
    log "$server answering on 127.0.0.1:$SERVER_PORT (pid $SERVER_PID, core $BENCH_SERVER_CPU)"
    for scenario in "${scenarios[@]}"; do
      qfile=$BENCH_OUT/queries-$scenario.txt
      snapshot_answers "$SERVER_PORT" "$qfile" "$BENCH_OUT/answers-$scenario-$server.txt"
      if ! measure "$server" "$scenario" "$qfile"; then
        FAILED=1
        printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
      fi
    done
    log "stopping $server"
    stop_server "$SERVER_PID"
  done

  # Same data from every server?
  for scenario in "${scenarios[@]}"; do
    for server in "${servers[@]:1}"; do
      local a=$BENCH_OUT/answers-$scenario-${servers[0]}.txt b=$BENCH_OUT/answers-$scenario-$server.txt
      [[ -s $a && -s $b ]] && compare_answers "$scenario" "$a" "$b"
    done
  done

  # Rows in scenario order, then server order.
  local sorted
  sorted=$(for scenario in "${scenarios[@]}"; do
    for server in "${servers[@]}"; do
      awk -F'\t' -v s="$scenario" -v v="$server" '$1 == s && $2 == v' "$RESULTS_TSV"
    done
  done)
  printf '%s\n' "$sorted" >"$RESULTS_TSV"

  {
    print_table "${servers[0]}"
    printf '\nqps: dnsperf at max rate, %s clients, %s queries outstanding, %s s after a %s s warm-up;\n' \
      "$BENCH_CLIENTS" "$BENCH_OUTSTANDING" "$BENCH_SECONDS" "$BENCH_WARMUP"
    printf 'avg_ms: from that run. p50/p99: a separate %s s "dnsperf -v" pass at the same -c/-q (per-query\n' "$BENCH_P99_SECONDS"
    printf 'latencies, nearest rank; timeouts count as infinite). cpu_s/100k: utime+stime of the server process\n'
    printf 'tree (/proc/PID/stat) over the measured run / completed queries * 100000. srv_cpu%%: that CPU over dnsperf run time.\n'
    printf 'server on core %s, dnsperf on core %s, one server worker.\n' "$BENCH_SERVER_CPU" "$BENCH_CLIENT_CPU"
    awk -F'\t' '$3 != "FAILED" && $15 != "-" { printf "latency pass of %s/%s ran at %.0f qps\n", $1, $2, $15 }' "$RESULTS_TSV"
    if [[ -s $NOTES_FILE ]]; then
      printf '\nnotes:\n'
      sed 's/^/  /' "$NOTES_FILE"
    fi
    printf '\ncommands:\n'
    sed 's/^/  /' "$COMMANDS_FILE"
    printf '\nraw outputs: %s\n' "$BENCH_OUT"
  } | tee "$BENCH_OUT/summary.txt"

  return "$FAILED"
}

main "$@"
