#!/usr/bin/env bash
# Side-by-side macro benchmark: Cairn vs Prometheus 2.42 (Debian package
# `prometheus`), both on loopback in the same run, both fed the same remote-write load
# by `cairnctl loadgen` (one after the other, so each has the machine to itself).
# Then the same dashboard queries (query_range over the loaded window, 15 s step) go
# to both. Prints ingest rate, RSS per series, bytes on disk per sample and query
# latency medians for each, and the Cairn/Prometheus ratios.
#
# Usage: bench/compare_prometheus.sh [series...]   (default: 10000 100000)
# Env: ROUNDS (samples per series, default 40), RUNS (per query, default 5),
#      BUILD (default ./build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
rounds=${ROUNDS:-40}
runs=${RUNS:-5}
interval_ms=15000
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)

command -v prometheus >/dev/null || {
  echo "installing prometheus (Debian package) for the comparison" >&2
  apt-get install -y -qq prometheus >/dev/null
}
work=$(mktemp -d /tmp/cairn-compare-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
wait_http() { for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

# Dashboard-style queries: aggregations over every series of a metric, as panels do.
queries=(
  'sum by (job) (rate(node_cpu_seconds_total[5m]))'
  'topk(5, sum by (instance) (rate(http_requests_total[5m])))'
  'avg by (job) (node_memory_bytes)'
  'quantile(0.9, node_load1)'
  'count by (job) (process_open_fds)'
  'sum(rate(http_requests_total{job="job-3"}[5m]))'
)
# Median wall time (ms) of $runs query_range requests.
median_ms() {
  local port=$1 q=$2 start=$3 end=$4 times=()
  for _ in $(seq "$runs"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' --data-urlencode "query=$q" \
      --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=15" \
      "http://127.0.0.1:$port/api/v1/query_range")")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}'
}

declare -A result
for n in "${sizes[@]}"; do
  now_ms=$(( $(date +%s) * 1000 ))
  start_ms=$(( now_ms - rounds * interval_ms ))
  declare -A pid_of port_of base_rss
  port_of[cairn]=19191
  port_of[prometheus]=19192
  for sys in cairn prometheus; do
    dir="$work/$sys-$n"
    mkdir -p "$dir"
    # No scrape targets for either (Cairn's embedded config would scrape itself).
    printf 'global:\n  scrape_interval: 1h\n' >"$dir/p.yml"
    if [ "$sys" = cairn ]; then
      "$build/bin/cairn" --config.file="$dir/p.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address=127.0.0.1:19191 --grpc.listen-address=127.0.0.1:19195 >"$dir/log" 2>&1 &
    else
      prometheus --config.file="$dir/p.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address=127.0.0.1:19192 --web.enable-remote-write-receiver >"$dir/log" 2>&1 &
    fi
    pid_of[$sys]=$!
    pids+=("${pid_of[$sys]}")
    wait_http "http://127.0.0.1:${port_of[$sys]}/-/ready"
  done
  printf '\n%s series x %s samples\n' "$n" "$rounds"
  printf '%-10s %14s %14s %14s %14s\n' system samples/s cpu_us/sample rss_B/series disk_B/sample
  for sys in cairn prometheus; do
    base_rss=$(rss_kb "${pid_of[$sys]}")
    c0=$(cpu_ticks "${pid_of[$sys]}")
    out=$("$build/bin/cairnctl" loadgen --url="http://127.0.0.1:${port_of[$sys]}/api/v1/write" \
      --series="$n" --rounds="$rounds" --start-ms="$start_ms" --concurrency=4 --batch=500 --quiet)
    result[$sys-rate]=$(sed -n 's/.*samples_per_second=\([0-9]*\).*/\1/p' <<<"$out")
    c1=$(cpu_ticks "${pid_of[$sys]}")
    # Server CPU per ingested sample: the fair figure when the load generator shares
    # the machine's cores with the server.
    result[$sys-cpu]=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v s=$((n * rounds)) \
      'BEGIN {printf "%.2f", c / hz * 1e6 / s}')
    sleep 1
    result[$sys-rss]=$(( ($(rss_kb "${pid_of[$sys]}") - base_rss) * 1024 / n ))
  done
  qstart=$(( start_ms / 1000 ))
  qend=$(( (start_ms + (rounds - 1) * interval_ms) / 1000 ))
  for i in "${!queries[@]}"; do
    for sys in cairn prometheus; do
      result[$sys-q$i]=$(median_ms "${port_of[$sys]}" "${queries[$i]}" "$qstart" "$qend")
    done
  done
  for sys in cairn prometheus; do
    kill -TERM "${pid_of[$sys]}"
    wait "${pid_of[$sys]}" 2>/dev/null || true
    disk=$(du -sb "$work/$sys-$n/data" | cut -f1)
    result[$sys-disk]=$(awk -v d="$disk" -v s=$((n * rounds)) 'BEGIN {printf "%.2f", d / s}')
    printf '%-10s %14s %14s %14s %14s\n' "$sys" "${result[$sys-rate]}" "${result[$sys-cpu]}" \
      "${result[$sys-rss]}" "${result[$sys-disk]}"
  done
  printf '%-10s %14s %14s %14s %14s\n' ratio "$(ratio "${result[cairn-rate]}" "${result[prometheus-rate]}")" \
    "$(ratio "${result[cairn-cpu]}" "${result[prometheus-cpu]}")" \
    "$(ratio "${result[cairn-rss]}" "${result[prometheus-rss]}")" \
    "$(ratio "${result[cairn-disk]}" "${result[prometheus-disk]}")"
  printf '%-64s %10s %10s %7s\n' "query (median of $runs, ms)" cairn prometheus ratio
  for i in "${!queries[@]}"; do
    printf '%-64s %10s %10s %7s\n' "${queries[$i]}" "${result[cairn-q$i]}" \
      "${result[prometheus-q$i]}" "$(ratio "${result[cairn-q$i]}" "${result[prometheus-q$i]}")"
  done
done
echo "(ratio = Cairn / Prometheus; disk is the data dir after shutdown: WAL + blocks)"
