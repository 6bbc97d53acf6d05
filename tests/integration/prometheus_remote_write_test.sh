#!/usr/bin/env bash
# A real remote-write client: Prometheus 2.42 scrapes itself and remote-writes to
# cairn; cairn must then serve those series (/api/v1/series, and /api/v1/query through
# promtool when the query API is present), matching what Prometheus answers.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cairn=$build/bin/cairn
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed"; exit 77; }
command -v promtool >/dev/null || { echo "SKIP: promtool not installed"; exit 77; }
[[ -x $cairn ]] || { echo "FAIL: $cairn missing"; exit 1; }

source "$(dirname "$0")/lib.sh"
it_init cairn_rw_it
cport=$(free_port); gport=$(free_port); pport=$(free_port)

"$cairn" --web.listen-address=127.0.0.1:$cport --grpc.listen-address=127.0.0.1:$gport \
  --storage.tsdb.path="$tmp/cairn" >"$tmp/cairn.log" 2>&1 &
pids+=($!)

cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$pport']
remote_write:
  - url: http://127.0.0.1:$cport/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
YML
prometheus --config.file="$tmp/prometheus.yml" --web.listen-address=127.0.0.1:$pport \
  --storage.tsdb.path="$tmp/prom" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

fail() {
  echo "FAIL: $*"
  echo "--- cairn log"; tail -20 "$tmp/cairn.log" || true
  echo "--- prometheus log"; tail -20 "$tmp/prometheus.log" || true
  exit 1
}

# Wait for Prometheus' own series to arrive in cairn.
found=""
for _ in $(seq 1 90); do
  out=$(curl -sf "http://127.0.0.1:$cport/api/v1/series" --data-urlencode 'match[]=up{job="prometheus"}' || true)
  if [[ $out == *'"job":"prometheus"'* ]]; then found=$out; break; fi
  sleep 1
done
[[ -n $found ]] || fail "cairn never received up{job=\"prometheus\"} over remote write"
echo "series: $found"

names=$(curl -sf "http://127.0.0.1:$cport/api/v1/label/__name__/values")
for m in prometheus_build_info prometheus_tsdb_head_series scrape_duration_seconds; do
  [[ $names == *"\"$m\""* ]] || fail "metric $m missing from cairn's label values"
done

# Rejections must be zero: Prometheus sends valid, in-order data.
metrics=$(curl -sf "http://127.0.0.1:$cport/metrics")
if grep -E '^cairn_samples_rejected_total\{[^}]*\} [1-9]' <<<"$metrics"; then
  fail "cairn rejected samples from Prometheus"
fi

# With the query API: promtool gets the same answer from both servers.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cport/api/v1/query?query=1")
if [[ $code == 404 ]]; then
  echo "query API not present: series checks passed, promtool checks skipped"
  exit 0
fi
sleep 2
q='count by (job) (up{job="prometheus"})'
c=$(promtool query instant "http://127.0.0.1:$cport" "$q") || fail "promtool query instant against cairn: $c"
p=$(promtool query instant "http://127.0.0.1:$pport" "$q") || fail "promtool query instant against prometheus"
echo "cairn: $c"; echo "prometheus: $p"
[[ ${c%% =>*} == "${p%% =>*}" && $c == *"=> 1 @"* ]] || fail "instant query differs: cairn '$c' vs prometheus '$p'"
# Prometheus' remote-write queue skips what was scraped while its own WAL replayed, so
# cairn's first sample can be only seconds old: the range must reach up to now.
now=$(date +%s)
r=$(promtool query range --start=$((now - 20)) --end=$now --step=1s \
  "http://127.0.0.1:$cport" 'up{job="prometheus"}') || fail "promtool query range against cairn: $r"
[[ $r == *'job="prometheus"'* && $r == *"1 @["* ]] || fail "range query result unexpected: $r"
echo "PASS"
