# Latency percentiles from a `dnsperf -v` run. dnsperf 2.10 prints one line per query:
#   > NOERROR app.bench.test A 0.000123      (answered: rcode, name, type, latency in seconds)
#   > T app.bench.test A                     (timed out: no latency)
#
#   awk -v tmp=SCRATCH_FILE -f percentiles.awk verbose.out
#
# Prints one line of key=value pairs, latencies in milliseconds. Nearest-rank percentiles over ALL
# queries that got an outcome; a timed-out query counts as slower than any answer, so when more
# than 1% of the queries timed out p99 is "inf" instead of the timeouts being silently dropped.

BEGIN {
  if (tmp == "") { print "percentiles.awk: pass -v tmp=FILE (scratch file)" > "/dev/stderr"; exit 2 }
  sorter = "sort -g > " tmp
  printf "" > tmp
  close(tmp)
}

$1 == ">" && $2 == "T" { timeouts++; next }
$1 == ">" && NF >= 5 && $NF ~ /^[0-9.]+(e-?[0-9]+)?$/ { print $NF | sorter; answered++ }

END {
  if (answered > 0) close(sorter)
  i = 0
  while ((getline v < tmp) > 0) lat[++i] = v
  close(tmp)
  total = answered + timeouts
  if (total == 0) { print "n=0 timeouts=0 p50_ms=nan p90_ms=nan p99_ms=nan p999_ms=nan max_ms=nan"; exit 0 }
  split("50 90 99 99.9", ps, " ")
  split("p50_ms p90_ms p99_ms p999_ms", keys, " ")
  out = "n=" total " timeouts=" timeouts + 0
  for (k = 1; k <= 4; k++) {
    rank = ps[k] / 100 * total
    r = int(rank); if (r < rank) r++
    if (r < 1) r = 1
    out = out " " keys[k] "=" (r > answered ? "inf" : sprintf("%.3f", lat[r] * 1000))
  }
  out = out " max_ms=" (timeouts > 0 ? "inf" : sprintf("%.3f", lat[answered] * 1000))
  print out
}
