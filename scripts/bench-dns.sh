#!/usr/bin/env bash
# bench-dns.sh: serve the same zone from vigil, from NSD and from Knot DNS (online signing with
# mod-onlinesign) on this machine and drive each in turn with dnsperf, the server pinned to one core
# and dnsperf to another, one server worker each. Scenarios without the DO bit compare vigil with NSD
# (which does not sign); scenarios with DO compare vigil's online signing with Knot's. Prints qps,
# average and p99 latency, server CPU seconds per 100k queries, ratios, and the DNSSEC goals.
# Every scenario runs on a freshly started server. See docs/benchmarks.md for how to read the numbers.
#
#   scripts/bench-dns.sh                      # all servers x all scenarios, 15 s per measured run
#   BENCH_SECONDS=30 BENCH_SERVERS=nsd scripts/bench-dns.sh
#
# Settings (environment):
#   BENCH_SECONDS      measured run length, s (15)
#   BENCH_WARMUP       unmeasured run before it, s (3); warms caches and vigil's JIT
#   BENCH_P99_SECONDS  separate `dnsperf -v` pass for latency percentiles, s (5; 0 = skip)
#   BENCH_CLIENTS      dnsperf -c (10)          BENCH_OUTSTANDING  dnsperf -q (100)
#   BENCH_QUERIES      lines in each generated query file, unless its .mix sets @queries (10000)
#   BENCH_SEED         seed of the query shuffle and of the random names (1)
#   BENCH_SERVERS      servers, in order ("nsd knot vigil"); per scenario, the first that ran it is
#                      the ratio baseline (NSD unsigned, Knot signed: NSD skips DO scenarios)
#   BENCH_SCENARIOS    scenario names = scripts/bench/scenarios/NAME.mix (all of them)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU   cores for the server / for dnsperf (0 / 1)
#   BENCH_BUILD        auto (build dist/vigil if missing or older than src/), always, never
#   BENCH_NSD_MINIMAL  NSD minimal-responses (yes): no authority NS / glue on every answer, like vigil
#   BENCH_OUT          results directory (/tmp/vigil-bench-YYYYmmdd-HHMMSS)
#   VIGIL_BIN          the vigil binary (dist/vigil; never rebuilt when set)
#
# Adding a server: write start_NAME (set SERVER_PID, SERVER_PORT, and SERVER_SIGNS=no when it does
# not sign; return non-zero on failure) and put NAME in BENCH_SERVERS. Adding a scenario: drop a
# .mix file into scripts/bench/scenarios/ ("@dnsperf -D" makes it a signed scenario).

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
BENCH_SERVERS=${BENCH_SERVERS:-nsd knot vigil}
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
SERVER_SIGNS=yes

# The goals of the DNSSEC issue, checked after the table: "NUM_SCENARIO NUM_SERVER DEN_SCENARIO
# DEN_SERVER TARGET LABEL", met when qps(NUM) / qps(DEN) >= TARGET; TARGET "-" = shown, not judged.
GOALS=(
  "positive-do vigil positive vigil 0.90 signed answers vs unsigned"
  "nxdomain-flood-do vigil positive-do vigil 0.80 signed NXDOMAIN flood vs signed answers"
  "positive-do vigil positive-do knot 1.00 signed answers vs Knot"
  "nxdomain-flood-do vigil nxdomain-flood-do knot 1.00 signed NXDOMAIN flood vs Knot"
  "nxdomain-flood-do vigil positive vigil - signed NXDOMAIN flood vs unsigned answers"
  "nxdomain-flood vigil positive vigil - unsigned NXDOMAIN flood vs unsigned answers"
)

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
  if [[ " $BENCH_SERVERS " == *" knot "* ]]; then
    for t in knotd knotc; do
      command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("$t")
    done
  fi
  if ((${#missing[@]})); then
    printf 'bench-dns: missing tools: %s\n' "${missing[*]}" >&2
    printf 'install them with:\n  apt-get install nsd knot dnsperf bind9-dnsutils util-linux\n' >&2
    printf '(or leave a server out, e.g. BENCH_SERVERS="nsd vigil")\n' >&2
    exit 2
  fi
}

# Path of a server tool that may live in /usr/sbin, outside a non-root PATH.
sbin_tool() {
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
# set SERVER_PID and SERVER_PORT (and SERVER_SIGNS=no for a server that does not sign: it then
# skips the signed scenarios); wait until it answers; non-zero (after saying why) on failure.

# The zone file NSD and Knot load: SOA, NS and glue, records.zone, and the services as plain
# address records (the same RRsets vigil answers with).
write_zone_file() {
  local name ttl addr
  {
    # shellcheck disable=SC2016 # $ORIGIN and $TTL are zone-file directives
    printf '$ORIGIN %s.\n$TTL 300\n' "$ZONE"
    printf '@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 604800 300\n' "$ZONE" "$ZONE"
    printf '@ IN NS ns1\nns1 IN A 127.0.0.1\n'
    zone_records
    while read -r name ttl addr; do
      for addr in $addr; do
        if [[ $addr == *:* ]]; then
          printf '%s %s IN AAAA %s\n' "$name" "$ttl" "$addr"
        else
          printf '%s %s IN A %s\n' "$name" "$ttl" "$addr"
        fi
      done
    done < <(services)
  } >"$1"
}

start_nsd() {
  local dir=$1 port
  local nsd checkconf checkzone
  nsd=$(sbin_tool nsd)
  checkconf=$(sbin_tool nsd-checkconf)
  checkzone=$(sbin_tool nsd-checkzone)
  port=$(free_port 5300) || { log "no free port"; return 1; }
  SERVER_SIGNS=no
  write_zone_file "$dir/$ZONE.zone"

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

# Knot DNS with its online signing module on the zone: every answer to a DO query is signed as it
# is sent, with the module's default policy (a single ECDSA P-256 key, CSK, made at the first start
# and kept in DIR/db/keys). NXDOMAIN is answered NOERROR with an NSEC made for the query name.
start_knot() {
  local dir=$1 port knotd knotc
  knotd=$(sbin_tool knotd)
  knotc=$(sbin_tool knotc)
  port=$(free_port 5500) || { log "no free port"; return 1; }
  SERVER_SIGNS=yes
  write_zone_file "$dir/$ZONE.zone"
  mkdir -p "$dir/db"

  # One worker per kind, like the other servers. No rate limiting (mod-rrl is not loaded), and Knot
  # sends no NS/glue with positive answers by default (as vigil and NSD with minimal-responses).
  cat >"$dir/knot.conf" <<EOF
server:
  rundir: "$dir"
  pidfile: "$dir/knot.pid"
  listen: 127.0.0.1@$port
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1

control:
  listen: "$dir/knot.sock"

log:
  - target: stderr
    any: info

database:
  storage: "$dir/db"

zone:
  - domain: $ZONE
    storage: "$dir"
    file: "$ZONE.zone"
    module: mod-onlinesign
EOF
  "$knotc" -c "$dir/knot.conf" conf-check >"$dir/checkconf.out" 2>&1 || { cat "$dir/checkconf.out" >&2; return 1; }

  record_command taskset -c "$BENCH_SERVER_CPU" "$knotd" -c "$dir/knot.conf"
  taskset -c "$BENCH_SERVER_CPU" "$knotd" -c "$dir/knot.conf" >"$dir/stdout" 2>"$dir/stderr" &
  SERVER_PID=$!
  SERVER_PORT=$port
  STARTED_PIDS+=("$SERVER_PID")
  if ! wait_ready "$port" "$SERVER_PID"; then
    tail -n 20 "$dir/stderr" >&2 || true
    return 1
  fi
  # A zone whose module failed to load is still served, unsigned: say why.
  if grep -q "module 'mod-onlinesign'.*fail" "$dir/stderr"; then
    grep "mod-onlinesign" "$dir/stderr" >&2
    return 1
  fi
}

start_vigil() {
  local dir=$1 port name ttl addrs addr
  ensure_vigil_binary "$dir" || return 1
  "$VIGIL_BIN" version >"$dir/version.txt" 2>&1 || true
  port=$(free_port 5400) || { log "no free port"; return 1; }
  SERVER_SIGNS=yes
  mkdir -p "$dir/data"

  {
    cat <<EOF
# Generated by scripts/bench-dns.sh. DNSSEC is on by default (ECDSA P-256 CSK, NSEC), keys in data_dir.
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
metrics: { address: "127.0.0.1:0" }
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

# Does the server sign? A DO query for the SOA must come back with its RRSIG.
answers_signed() {
  dig @127.0.0.1 -p "$1" "$ZONE" SOA +dnssec +norec +time=2 +tries=1 +noall +answer 2>/dev/null |
    awk '$4 == "RRSIG" { found = 1 } END { exit !found }'
}

# dig options that send what dnsperf sends with a scenario's flags: no EDNS unless -e or -D.
dig_flags_for() {
  local edns=+noedns f
  for f in $(scenario_flags "$1"); do
    case $f in
      -D) edns=+dnssec ;;
      -e) [[ $edns == +noedns ]] && edns=+edns=0 ;;
    esac
  done
  printf '%s' "$edns"
}

# Answers of every distinct query of a scenario (up to 300), one line per query:
# "qname qtype | status | answer RRs without TTL and RRSIGs, sorted | authority/additional counts |
# RRSIGs and NSECs in the answer and authority sections". The SOA's serial and timers are left out
# (vigil computes its own), and so are signatures (each server has its own key and times).
snapshot_answers() {
  local port=$1 qfile=$2 out=$3 scenario=$4 qname qtype flags
  flags=$(dig_flags_for "$scenario")
  : >"$out"
  while read -r qname qtype; do
    dig @127.0.0.1 -p "$port" "$qname" "$qtype" +norec "$flags" +nottlid +noall +comments +answer +authority \
      +time=2 +tries=1 2>&1 |
      awk -v q="$qname $qtype" '
        /->>HEADER<<-/ { match($0, /status: [A-Z]+/); status = substr($0, RSTART + 8, RLENGTH - 8) }
        /^;; flags:/   { match($0, /AUTHORITY: [0-9]+/); auth = substr($0, RSTART + 11, RLENGTH - 11)
                         match($0, /ADDITIONAL: [0-9]+/); add = substr($0, RSTART + 12, RLENGTH - 12) }
        /^;; ANSWER SECTION:/    { section = "answer" }
        /^;; AUTHORITY SECTION:/ { section = "authority" }
        /^[^;]/ && NF  { if ($3 == "RRSIG") { sigs++; next }
                         if ($3 == "NSEC") nsecs++
                         if (section != "answer") next
                         if ($3 == "SOA") NF = 5; $1 = $1; rr[++n] = $0 }
        END {
          if (status == "") status = "NO-ANSWER"
          # insertion sort: few RRs per answer
          for (i = 2; i <= n; i++) { v = rr[i]; for (j = i - 1; j >= 1 && rr[j] > v; j--) rr[j + 1] = rr[j]; rr[j + 1] = v }
          s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "; " : "") rr[i]
          printf "%s | %s | %s | auth=%s add=%s | rrsig=%d nsec=%d\n", q, status, s, auth + 0, add + 0, sigs, nsecs
        }'
  done < <(sort -u "$qfile" | head -n 300) >>"$out"
}

# A signed scenario: every answer must carry at least one RRSIG.
check_signed_answers() {
  local scenario=$1 server=$2 file=$3 unsigned
  unsigned=$(awk -F' [|] ' '$5 ~ /^rrsig=0 / { n++ } END { print n + 0 }' "$file")
  if ((unsigned > 0)); then
    warn "signature check ($scenario): $unsigned of $(wc -l <"$file") answers from $server carry no RRSIG (see $file)"
  else
    printf 'signature check (%s): all %s answers from %s carry RRSIGs\n' "$scenario" "$(wc -l <"$file")" "$server" |
      tee -a "$NOTES_FILE" >&2
  fi
}

# compare_answers SCENARIO BASELINE_FILE OTHER_FILE: warn when the rcodes or answer sections differ,
# with the count per pair of rcodes and a few examples.
compare_answers() {
  local scenario=$1 base=$2 other=$3 bname oname diffs extras total
  bname=$(basename "$base" .txt)
  oname=$(basename "$other" .txt)
  total=$(wc -l <"$base")
  diffs=$(paste -d '\n' <(cut -d'|' -f1-3 "$base") <(cut -d'|' -f1-3 "$other") |
    awk -F' [|] ' -v b="$bname" -v o="$oname" '
      NR % 2 == 1 { a = $0; sa = $2; next }
      a != $0 { n++; kind = "rcode " sa " vs " $2 (sa == $2 ? ", answer section differs" : "")
                if (!(kind in count)) order[++k] = kind; count[kind]++
                if (n <= 3) ex = ex "    " a "\n    " $0 "\n" }
      END { if (!n) exit
            for (i = 1; i <= k; i++) printf "  %d queries: %s (%s vs %s)\n", count[order[i]], order[i], b, o
            printf "  first examples (%s, then %s):\n%s", b, o, ex }')
  extras=$(paste -d '|' <(cut -d'|' -f4 "$base") <(cut -d'|' -f4 "$other") | awk -F'|' '$1 != $2' | wc -l)
  if [[ -n $diffs ]]; then
    warn "data check ($scenario): answers differ between $bname and $oname:"
    printf '%s\n' "$diffs" | tee -a "$NOTES_FILE" >&2
  else
    printf 'data check (%s): %s and %s give the same rcode and answer section for all %s distinct queries\n' \
      "$scenario" "$bname" "$oname" "$total" | tee -a "$NOTES_FILE" >&2
  fi
  if ((extras > 0)); then
    printf 'data check (%s): authority/additional record counts differ on %s of %s queries (%s vs %s; see answers-*.txt)\n' \
      "$scenario" "$extras" "$total" "$bname" "$oname" | tee -a "$NOTES_FILE" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Running the scenarios

# run_server SERVER SCENARIO...: every scenario on a freshly started server (so no scenario runs on
# caches another one filled, whatever their order), one after the other; rows into results.tsv.
run_server() {
  local server=$1 dir=$BENCH_OUT/$1 scenario qfile signs=unknown
  shift
  local -a skipped=()
  mkdir -p "$dir"
  for scenario in "$@"; do
    qfile=$BENCH_OUT/queries-$scenario.txt
    if scenario_wants_dnssec "$scenario" && [[ $signs == no ]]; then
      skipped+=("$scenario")
      continue
    fi
    if [[ $signs == failed ]] || { scenario_wants_dnssec "$scenario" && [[ $signs == broken ]]; }; then
      FAILED=1
      printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
      continue
    fi
    log "starting $server for $scenario"
    SERVER_PID=
    SERVER_PORT=
    SERVER_SIGNS=yes
    if ! "start_$server" "$dir"; then
      warn "$server did not start (see $dir/); its rows are marked FAILED"
      FAILED=1
      signs=failed
      printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
      [[ -n $SERVER_PID ]] && stop_server "$SERVER_PID"
      continue
    fi
    log "$server answering on 127.0.0.1:$SERVER_PORT (pid $SERVER_PID, core $BENCH_SERVER_CPU)"
    if [[ $signs == unknown ]]; then
      signs=$SERVER_SIGNS
      if [[ $signs == yes ]] && ! answers_signed "$SERVER_PORT"; then
        warn "$server sends no RRSIG with its SOA to a DO query: its signed scenarios are marked FAILED"
        signs=broken
      fi
    fi
    if scenario_wants_dnssec "$scenario" && [[ $signs != yes ]]; then
      # Learnt at this first start: the server does not sign (or cannot).
      if [[ $signs == no ]]; then
        skipped+=("$scenario")
      else
        FAILED=1
        printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
      fi
      stop_server "$SERVER_PID"
      continue
    fi
    snapshot_answers "$SERVER_PORT" "$qfile" "$BENCH_OUT/answers-$scenario-$server.txt" "$scenario"
    if scenario_wants_dnssec "$scenario"; then
      check_signed_answers "$scenario" "$server" "$BENCH_OUT/answers-$scenario-$server.txt"
    fi
    if ! measure "$server" "$scenario" "$qfile"; then
      FAILED=1
      printf '%s\t%s\tFAILED\n' "$scenario" "$server" >>"$RESULTS_TSV"
    fi
    log "stopping $server"
    stop_server "$SERVER_PID"
  done
  if ((${#skipped[@]})); then
    printf '%s does not sign: signed scenarios not run on it (%s)\n' "$server" "${skipped[*]}" | tee -a "$NOTES_FILE" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Goals

# One line per goal in GOALS whose two runs exist: the qps ratio, the capacity ratio (completed
# queries per server CPU second; what the qps ratio would be if neither run were client-bound),
# and whether the qps ratio reaches the target.
print_goals() {
  local goal ns nv ds dv target label
  printf '\ngoals (qps ratio; capacity = queries per server CPU second, i.e. the inverse cpu_s/100k ratio):\n'
  for goal in "${GOALS[@]}"; do
    read -r ns nv ds dv target label <<<"$goal"
    awk -F'\t' -v ns="$ns" -v nv="$nv" -v ds="$ds" -v dv="$dv" -v target="$target" -v label="$label" '
      $3 != "FAILED" && $1 == ns && $2 == nv { q1 = $3; c1 = $7; p1 = $10; have1 = 1 }
      $3 != "FAILED" && $1 == ds && $2 == dv { q2 = $3; c2 = $7; p2 = $10; have2 = 1 }
      END {
        pair = sprintf("%s %s / %s %s", nv, ns, dv, ds)
        if (!have1 || !have2) { printf "  %-42s %-49s not measured\n", label, pair; exit }
        r = q1 / q2
        cap = c1 > 0 ? c2 / c1 : 0
        verdict = target == "-" ? "(no target)" : sprintf("target %.2f: %s", target, r >= target - 1e-9 ? "met" : "NOT met")
        note = ""
        if (p1 < 85) note = note sprintf("; %s %s client-bound (server %d%%)", nv, ns, p1)
        if (p2 < 85) note = note sprintf("; %s %s client-bound (server %d%%)", dv, ds, p2)
        printf "  %-42s %-49s qps %.2f  capacity %.2f  %s%s\n", label, pair, r, cap, verdict, note
      }' "$RESULTS_TSV"
  done
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
    printf 'dnsperf: %s\nnsd: %s\nknot: %s\n' "$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')" \
      "$("$(sbin_tool nsd)" -v 2>&1 | head -n 1)" "$("$(sbin_tool knotd)" -V 2>&1 | head -n 1)"
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

  local scenario server
  for scenario in "${scenarios[@]}"; do
    prepare_queries "$scenario" "$BENCH_OUT/queries-$scenario.txt"
  done

  for server in "${servers[@]}"; do
    run_server "$server" "${scenarios[@]}"
  done

  # Same data from every server? Against the first server that answered the scenario.
  for scenario in "${scenarios[@]}"; do
    local first=
    for server in "${servers[@]}"; do
      local b=$BENCH_OUT/answers-$scenario-$server.txt
      [[ -s $b ]] || continue
      if [[ -z $first ]]; then
        first=$b
      else
        compare_answers "$scenario" "$first" "$b"
      fi
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
    print_table "${servers[*]}"
    print_goals
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
