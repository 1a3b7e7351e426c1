# Expand a scenario .mix file into a dnsperf query file ("NAME TYPE" per line), shuffled with a
# fixed-seed generator so the same mix always gives the same file, whatever the awk (mawk, gawk).
#
#   awk -v zone=bench.test -v total=10000 -v seed=1 [-v pass=N] -f gen-queries.awk positive.mix > queries.txt
#
# Mix lines: WEIGHT NAME TYPE [# comment]; NAME "@" is the apex, "host[1-50]" spreads the weight
# over host1..host50, "[random]" stands for a new random 12-character label ([a-z0-9]) on every
# line. "@queries N" sets the number of lines (instead of `total`). Lines starting with "#" or "@"
# are not queries ("@include" is expanded by the caller, "@dnsperf" is read by the caller).
# `pass` (default 0) shifts the seed: the same mix gives a different file (different random labels)
# for each pass, and the same file for the same pass.

function fqdn(rel) {
  return rel == "@" ? zone : rel "." zone
}

# Park-Miller "minimal standard" generator: exact in double arithmetic (16807 * 2^31 < 2^53).
function next_rand() {
  state = (state * 16807) % 2147483647
  return state
}

# 12 characters of [a-z0-9], 6 from each of two draws (36^6 < 2^31 - 1).
function random_label(   s, r, k, d) {
  s = ""
  for (k = 0; k < 2; k++) {
    r = next_rand()
    for (d = 0; d < 6; d++) {
      s = s substr(ALPHABET, r % 36 + 1, 1)
      r = int(r / 36)
    }
  }
  return s
}

BEGIN {
  ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
  if (zone == "") zone = "bench.test"
  if (total == "") total = 10000
  if (seed == "") seed = 1
  if (pass == "") pass = 0
  state = (seed + pass * 1000003) % 2147483647
  if (state <= 0) state = 1
  n = 0
}

/^[ \t]*@queries[ \t]/ {
  if ($2 !~ /^[0-9]+$/ || $2 + 0 < 1) { printf "gen-queries: %s:%d: @queries wants a positive number\n", FILENAME, FNR > "/dev/stderr"; bad = 1; exit 1 }
  total = $2 + 0
  next
}

/^[ \t]*(#|@|$)/ { next }

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
    base = name[i]; lo = 0; hi = -1; random = 0
    if (index(base, "[random]")) {
      random = 1
      split(base, part, /\[random\]/)
      rprefix = part[1]; rsuffix = substr(base, length(part[1]) + 9)
    } else if (match(base, /\[[0-9]+-[0-9]+\]/)) {
      range = substr(base, RSTART + 1, RLENGTH - 2)
      split(range, b, "-"); lo = b[1] + 0; hi = b[2] + 0
      prefix = substr(base, 1, RSTART - 1); suffix = substr(base, RSTART + RLENGTH)
    }
    for (k = 0; k < count; k++) {
      if (random) rel = rprefix random_label() rsuffix
      else rel = hi >= lo ? prefix (lo + k % (hi - lo + 1)) suffix : base
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
