#!/usr/bin/env bash
# Scrape macro benchmark: Cairn vs Prometheus 2.42 scraping the same TARGETS targets
# (default 1000; one fake_exporter answering on 127.0.0.x loopback addresses, so each
# target has its own instance) every INTERVAL (default 1s) for DURATION seconds
# (default 60) after a WARMUP (default 10 s). For each system prints the CPU seconds
# it used in the window (/proc/PID/stat utime+stime), the pages scraped (counted by the
# exporter), samples scraped, CPU seconds per million samples, and scrapes missed
# (expected TARGETS*DURATION/INTERVAL minus scraped).
#
# Usage: bench/scrape_compare.sh        Env: TARGETS SERIES INTERVAL DURATION WARMUP BUILD
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
targets=${TARGETS:-1000}
series=${SERIES:-100}
interval=${INTERVAL:-1}
duration=${DURATION:-60}
warmup=${WARMUP:-10}
port=19400

command -v prometheus >/dev/null || { echo "needs prometheus (apt-get install prometheus)" >&2; exit 1; }
work=$(mktemp -d /tmp/cairn-scrape-compare-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$build/bench/fake_exporter" --listen=0.0.0.0:$port --series="$series" &
pids+=($!)
sleep 1

# 1000 targets on 127.0.<i/250>.<i%250+1>:port.
{
  printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\nscrape_configs:\n  - job_name: fake\n    static_configs:\n      - targets:\n' "$interval" "$interval"
  for i in $(seq 0 $((targets - 1))); do
    printf "          - '127.0.%d.%d:%d'\n" $((i / 250)) $((i % 250 + 1)) $port
  done
} >"$work/scrape.yml"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
served() { curl -s "http://127.0.0.1:$port/count"; }
hz=$(getconf CLK_TCK)

printf '%-10s %8s %10s %12s %12s %16s %8s\n' system cpu_s pages samples samples/s cpu_s/Msamples missed
for sys in cairn prometheus; do
  dir="$work/$sys"
  mkdir -p "$dir"
  if [ "$sys" = cairn ]; then
    "$build/bin/cairn" --config.file="$work/scrape.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address=127.0.0.1:19491 --grpc.listen-address=127.0.0.1:19495 >"$dir/log" 2>&1 &
  else
    prometheus --config.file="$work/scrape.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address=127.0.0.1:19492 >"$dir/log" 2>&1 &
  fi
  pid=$!
  pids+=($pid)
  sleep "$warmup"
  c0=$(cpu_ticks $pid); s0=$(served)
  sleep "$duration"
  c1=$(cpu_ticks $pid); s1=$(served)
  kill $pid; wait $pid 2>/dev/null || true
  pages=$((s1 - s0))
  samples=$((pages * series))
  cpu=$(echo "scale=2; ($c1 - $c0) / $hz" | bc)
  per_m=$(echo "scale=3; $cpu * 1000000 / $samples" | bc)
  expected=$((targets * duration / interval))
  missed=$((expected > pages ? expected - pages : 0))
  printf '%-10s %8s %10d %12d %12d %16s %8d\n' "$sys" "$cpu" "$pages" "$samples" \
    $((samples / duration)) "$per_m" "$missed"
  eval "per_m_$sys=$per_m"
done
echo "cairn/prometheus CPU per sample: $(echo "scale=2; $per_m_cairn / $per_m_prometheus" | bc)"
