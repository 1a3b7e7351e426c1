# Expand a scenario .mix file into a dnsperf query file ("NAME TYPE" per line), shuffled with a
# fixed-seed generator so the same mix always gives the same file, whatever the awk (mawk, gawk).
#
#   awk -v zone=bench.test -v total=10000 -v seed=1 -f gen-queries.awk positive.mix > queries.txt
#
# Mix lines: WEIGHT NAME TYPE [# comment]; NAME "@" is the apex, "host[1-50]" spreads the weight
# over host1..host50. Lines starting with "#" or "@dnsperf" are not queries.

function fqdn(rel) {
  return rel == "@" ? zone : rel "." zone
}

# Park-Miller "minimal standard" generator: exact in double arithmetic (16807 * 2^31 < 2^53).
function next_rand() {
  state = (state * 16807) % 2147483647
  return state
}

BEGIN {
  if (zone == "") zone = "bench.test"
  if (total == "") total = 10000
  if (seed == "") seed = 1
  state = seed % 2147483647
  if (state <= 0) state = 1
  n = 0
}

/^[ \t]*(#|@dnsperf|$)/ { next }

{
  sub(/#.*/, "")
  if (NF < 3) { printf "gen-queries: %s:%d: want WEIGHT NAME TYPE\n", FILENAME, FNR > "/dev/stderr"; bad = 1; exit 1 }
  n++
  weight[n] = $1 + 0
  name[n] = $2
  qtype[n] = toupper($3)
  sum += weight[n]
}

END {
  if (bad) exit 1
  if (n == 0 || sum <= 0) { print "gen-queries: no queries in the mix" > "/dev/stderr"; exit 1 }
  m = 0
  for (i = 1; i <= n; i++) {
    count = int(weight[i] * total / sum + 0.5)
    if (count < 1) count = 1
    base = name[i]; lo = 0; hi = -1
    if (match(base, /\[[0-9]+-[0-9]+\]/)) {
      range = substr(base, RSTART + 1, RLENGTH - 2)
      split(range, b, "-"); lo = b[1] + 0; hi = b[2] + 0
      prefix = substr(base, 1, RSTART - 1); suffix = substr(base, RSTART + RLENGTH)
    }
    for (k = 0; k < count; k++) {
      rel = hi >= lo ? prefix (lo + k % (hi - lo + 1)) suffix : base
      line[++m] = fqdn(rel) " " qtype[i]
    }
  }
  # Fisher-Yates.
  for (i = m; i > 1; i--) {
    j = 1 + next_rand() % i
    t = line[i]; line[i] = line[j]; line[j] = t
  }
  for (i = 1; i <= m; i++) print line[i]
}
