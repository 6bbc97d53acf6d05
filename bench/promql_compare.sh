#!/usr/bin/env bash
# Side-by-side PromQL benchmark and cross-check: Cairn vs Prometheus 2.42 (Debian
# package `prometheus`), both on loopback, both fed the same remote-write data by
# `cairnctl loadgen` (same seed, same timestamps). For each query it runs the same
# /api/v1/query_range request against both (best of RUNS, wall time as seen by curl,
# JSON encoding included), prints the times and their ratio, and checks that the two
# answers agree (same series, values within 1e-6 relative).
#
# Usage: bench/promql_compare.sh
# Env: SERIES (default 10000), ROUNDS (samples per series, default 480 = 2 h at 15 s),
#      RUNS (default 3), BUILD (default ./build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
series=${SERIES:-10000}
rounds=${ROUNDS:-480}
runs=${RUNS:-3}
interval_ms=15000

work=$(mktemp -d /tmp/cairn-promql-compare-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }

now_ms=$(( $(date +%s) * 1000 ))
start_ms=$(( (now_ms - rounds * interval_ms - 120000) / 60000 * 60000 ))
end_ms=$(( start_ms + (rounds - 1) * interval_ms ))

# Both get the same target-less config: Cairn's embedded default would scrape itself
# at "now" and so move its head's appendable window past the backfilled range.
printf 'global:\n  scrape_interval: 1h\n' >"$work/p.yml"
"$build/bin/cairn" --config.file="$work/p.yml" --storage.tsdb.path="$work/cairn" \
  --web.listen-address=127.0.0.1:19471 --grpc.listen-address=127.0.0.1:19475 \
  >"$work/cairn.log" 2>&1 &
pids+=($!)
prometheus --config.file="$work/p.yml" --storage.tsdb.path="$work/prom" \
  --web.listen-address=127.0.0.1:19472 --web.enable-remote-write-receiver \
  >"$work/prom.log" 2>&1 &
pids+=($!)
wait_http http://127.0.0.1:19471/-/ready
wait_http http://127.0.0.1:19472/-/ready
for port in 19471 19472; do
  "$build/bin/cairnctl" loadgen --url="http://127.0.0.1:$port/api/v1/write" --series="$series" \
    --rounds="$rounds" --start-ms="$start_ms" --concurrency=4 --batch=500 --quiet >/dev/null
done
sleep 2

qstart=$(( (start_ms + 600000) / 1000 ))
qend=$(( end_ms / 1000 ))
queries=(
  'sum by (job) (rate(node_cpu_seconds_total[5m]))'
  'rate(http_requests_total[5m])'
  'topk(10, rate(node_cpu_seconds_total[5m]))'
  '{job=~"job-.*"} - {job=~"job-.*"} offset 1m'
  'max_over_time(node_load1[10m])'
  'avg by (instance) (node_memory_bytes)'
  'histogram_quantile(0.9, sum by (le) (label_replace(rate(http_requests_total[5m]), "le", "$1", "job", "job-(.*)")))'
)
printf '%-100s %10s %10s %7s %s\n' query cairn_ms prom_ms ratio answers
for q in "${queries[@]}"; do
  declare -A best=()
  for port in 19471 19472; do
    b=999999
    for _ in $(seq "$runs"); do
      t=$(curl -s -o "$work/out.$port" -w '%{time_total}' --data-urlencode "query=$q" \
        --data-urlencode "start=$qstart" --data-urlencode "end=$qend" --data-urlencode "step=15" \
        "http://127.0.0.1:$port/api/v1/query_range")
      b=$(awk -v a="$b" -v t="$t" 'BEGIN {print (t * 1000 < a) ? t * 1000 : a}')
    done
    best[$port]=$b
  done
  verdict=$(python3 - "$work/out.19471" "$work/out.19472" <<'EOF'
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a.get("status") != "success" or b.get("status") != "success":
    print("error: cairn=%s prom=%s" % (a.get("error"), b.get("error"))); sys.exit()
def index(r):
    return {json.dumps(s["metric"], sort_keys=True): s["values"] for s in r["data"]["result"]}
ia, ib = index(a), index(b)
if ia.keys() != ib.keys():
    print("DIFFERENT series: %d vs %d" % (len(ia), len(ib))); sys.exit()
bad = 0
for k in ia:
    va, vb = ia[k], ib[k]
    if [p[0] for p in va] != [p[0] for p in vb]:
        bad += 1; continue
    for (_, x), (_, y) in zip(va, vb):
        x, y = float(x), float(y)
        if math.isnan(x) and math.isnan(y): continue
        if x != y and abs(x - y) > 1e-6 * (abs(x) + abs(y)): bad += 1; break
points = sum(len(v) for v in ia.values())
print("same (%d series, %d points)" % (len(ia), points) if bad == 0 else "DIFFERENT in %d series" % bad)
EOF
)
  printf '%-100s %10.1f %10.1f %7.2f %s\n' "$q" "${best[19471]}" "${best[19472]}" \
    "$(awk -v a="${best[19471]}" -v b="${best[19472]}" 'BEGIN {print a / b}')" "$verdict"
done
echo "(best of $runs; $series series x $rounds samples at 15 s; query_range over the last $(( (end_ms - start_ms - 600000) / 60000 )) min at a 15 s step)"
