#!/usr/bin/env bash
# Side-by-side macro benchmark: Cairn vs Prometheus 2.42 (Debian package
# `prometheus`), both on loopback, both fed the same remote-write load by
# `cairnctl loadgen`. Prints ingest rate, RSS per series and bytes on disk per
# sample for each, and the Cairn/Prometheus ratios.
#
# Usage: bench/compare_prometheus.sh [series...]   (default: 10000 100000)
# Env: ROUNDS (samples per series, default 40), BUILD (default ./build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
rounds=${ROUNDS:-40}
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
wait_http() { for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }

printf '%-10s %-8s %14s %14s %14s\n' system series samples/s rss_B/series disk_B/sample
declare -A result
for n in "${sizes[@]}"; do
  for sys in cairn prometheus; do
    dir="$work/$sys-$n"
    mkdir -p "$dir"
    # No scrape targets for either (Cairn's embedded config would scrape itself).
    printf 'global:\n  scrape_interval: 1h\n' >"$dir/p.yml"
    if [ "$sys" = cairn ]; then
      "$build/bin/cairn" --config.file="$dir/p.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address=127.0.0.1:19191 --grpc.listen-address=127.0.0.1:19195 >"$dir/log" 2>&1 &
      port=19191
    else
      prometheus --config.file="$dir/p.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address=127.0.0.1:19192 --web.enable-remote-write-receiver >"$dir/log" 2>&1 &
      port=19192
    fi
    pid=$!
    pids+=("$pid")
    wait_http "http://127.0.0.1:$port/-/ready"
    base_rss=$(rss_kb "$pid")
    out=$("$build/bin/cairnctl" loadgen --url="http://127.0.0.1:$port/api/v1/write" \
      --series="$n" --rounds="$rounds" --concurrency=4 --batch=500 --quiet)
    rate=$(sed -n 's/.*samples_per_second=\([0-9]*\).*/\1/p' <<<"$out")
    sleep 1
    rss=$(rss_kb "$pid")
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    disk=$(du -sb "$dir/data" | cut -f1)
    rss_per=$(( (rss - base_rss) * 1024 / n ))
    disk_per=$(awk -v d="$disk" -v s=$((n * rounds)) 'BEGIN {printf "%.2f", d / s}')
    printf '%-10s %-8s %14s %14s %14s\n' "$sys" "$n" "$rate" "$rss_per" "$disk_per"
    result[$sys-$n-rate]=$rate
    result[$sys-$n-rss]=$rss_per
    result[$sys-$n-disk]=$disk_per
  done
  awk -v a="${result[cairn-$n-rate]}" -v b="${result[prometheus-$n-rate]}" \
      -v c="${result[cairn-$n-rss]}" -v d="${result[prometheus-$n-rss]}" \
      -v e="${result[cairn-$n-disk]}" -v f="${result[prometheus-$n-disk]}" -v n="$n" \
      'BEGIN {printf "%-10s %-8s %14.2f %14.2f %14.2f\n", "ratio", n, a / b, (d > 0 ? c / d : 0), (f > 0 ? e / f : 0)}'
done
echo "(ratio = Cairn / Prometheus; disk is the data dir after shutdown: WAL + blocks)"
