#!/usr/bin/env bash
# Rules side by side: Prometheus 2.42 and cairn load the same rule file; their
# /api/v1/rules, /api/v1/alerts and the ALERTS / recorded series must agree once
# timestamps and durations are masked. Also: `cairnctl check rules` and `promtool
# check rules` agree on which files are valid.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cairn=$build/bin/cairn
cairnctl=$build/bin/cairnctl
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed"; exit 77; }
command -v promtool >/dev/null || { echo "SKIP: promtool not installed"; exit 77; }
[[ -x $cairn && -x $cairnctl ]] || { echo "FAIL: $cairn or $cairnctl missing"; exit 1; }

source "$(dirname "$0")/lib.sh"
it_init cairn_rules_it
cport=$(free_port); gport=$(free_port); pport=$(free_port)

mkdir -p "$tmp/p/rules" "$tmp/c/rules"
cat >"$tmp/rules.yml" <<'YML'
groups:
  - name: cmp
    interval: 1s
    rules:
      - record: rec:one
        expr: vector(1)
        labels: {team: a}
      - record: rec:scalar
        expr: "2"
      - alert: Firing
        expr: vector(1234567) > 1
        labels: {severity: "sev-{{ $value | humanize }}"}
        annotations:
          summary: "v={{ $value }} {{ humanizeDuration 3661 }} {{ $externalLabels.dc }} [{{ $labels.nope }}]"
          pct: "{{ humanizePercentage 0.1234 }} {{ printf \"%.2f\" 3.14159 }} {{ humanize1024 2048 }}"
      - alert: Pending
        expr: label_replace(vector(1), "instance", "x:1", "", "")
        for: 1h
        keep_firing_for: 5m
      - alert: Never
        expr: vector(1) > 5
  - name: limited
    interval: 1s
    limit: 1
    rules:
      - alert: Limited
        expr: vector(1) or label_replace(vector(1), "a", "b", "", "")
  - name: empty
    rules: []
YML
cp "$tmp/rules.yml" "$tmp/p/rules/r.yml"
cp "$tmp/rules.yml" "$tmp/c/rules/r.yml"
for d in p c; do
  cat >"$tmp/$d/config.yml" <<YML
global:
  evaluation_interval: 1s
  external_labels: {dc: eu}
rule_files: ['rules/*.yml']
scrape_configs: []
YML
done

prometheus --config.file="$tmp/p/config.yml" --web.listen-address=127.0.0.1:$pport \
  --storage.tsdb.path="$tmp/p/data" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
"$cairn" --config.file="$tmp/c/config.yml" --web.listen-address=127.0.0.1:$cport \
  --grpc.listen-address=127.0.0.1:$gport --storage.tsdb.path="$tmp/c/data" \
  >"$tmp/cairn.log" 2>&1 &
pids+=($!)

fail() {
  echo "FAIL: $*"
  echo "--- cairn log"; tail -20 "$tmp/cairn.log" || true
  echo "--- prometheus log"; tail -20 "$tmp/prometheus.log" || true
  exit 1
}

# Masks what legitimately differs (wall times, durations, the servers' directories,
# the alert ordering of Go maps), then prints canonical JSON.
normalize() {
  python3 -c '
import json, sys
dir = sys.argv[1]
def norm(x):
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if k in ("lastEvaluation", "evaluationTime", "activeAt", "keepFiringSince"):
                v = "<masked>"
            elif k == "file":
                v = v.replace(dir, "<dir>")
            else:
                v = norm(v)
            out[k] = v
        return out
    if isinstance(x, list):
        items = [norm(v) for v in x]
        if items and isinstance(items[0], dict) and "metric" in items[0]:
            items.sort(key=lambda i: json.dumps(i["metric"], sort_keys=True))
        return items
    return x
d = json.load(sys.stdin)
# Key order is part of the shape: keep it (no sort_keys) but mask values.
print(json.dumps(norm(d)))
' "$1"
}

get() { curl -sf "http://127.0.0.1:$1$2"; }

# Both evaluate every second; cairn writes ALERTS only after restoring `for` state
# (second evaluation), so poll until the answers agree or give up.
ok=""
for _ in $(seq 1 60); do
  sleep 1
  pr=$(get $pport /api/v1/rules | normalize "$tmp/p" || true)
  cr=$(get $cport /api/v1/rules | normalize "$tmp/c" || true)
  pa=$(get $pport /api/v1/alerts | normalize "$tmp/p" || true)
  ca=$(get $cport /api/v1/alerts | normalize "$tmp/c" || true)
  pq=$(get $pport '/api/v1/query?query=ALERTS%20or%20rec:one%20or%20rec:scalar' | python3 -c 'import json,sys; print(sorted(json.dumps(r["metric"],sort_keys=True) for r in json.load(sys.stdin)["data"]["result"]))' || true)
  cq=$(get $cport '/api/v1/query?query=ALERTS%20or%20rec:one%20or%20rec:scalar' | python3 -c 'import json,sys; print(sorted(json.dumps(r["metric"],sort_keys=True) for r in json.load(sys.stdin)["data"]["result"]))' || true)
  if [[ -n $pr && $pr == "$cr" && $pa == "$ca" && $pq == "$cq" && $cq == *ALERTS* ]]; then ok=1; break; fi
done
if [[ -z $ok ]]; then
  echo "prometheus rules: $pr"; echo "cairn rules:      $cr"
  echo "prometheus alerts: $pa"; echo "cairn alerts:      $ca"
  echo "prometheus series: $pq"; echo "cairn series:      $cq"
  fail "rules API or series differ"
fi
echo "rules API, alerts API and ALERTS/recorded series agree"
echo "$cr" | head -c 600; echo

# type filter and its error.
# (Polled too: the two servers evaluate at different moments of each second.)
for q in '?type=alert' '?type=record'; do
  same=""
  for _ in $(seq 1 10); do
    p=$(get $pport "/api/v1/rules$q" | normalize "$tmp/p")
    c=$(get $cport "/api/v1/rules$q" | normalize "$tmp/c")
    if [[ $p == "$c" ]]; then same=1; break; fi
    sleep 0.5
  done
  [[ -n $same ]] || { echo "prometheus: $p"; echo "cairn:      $c"; fail "/api/v1/rules$q differs"; }
done
pe=$(curl -s "http://127.0.0.1:$pport/api/v1/rules?type=bogus")
ce=$(curl -s "http://127.0.0.1:$cport/api/v1/rules?type=bogus")
[[ $pe == "$ce" ]] || fail "type=bogus: prometheus $pe, cairn $ce"

# check rules: same verdicts as promtool.
cat >"$tmp/bad.yml" <<'YML'
groups:
  - name: a
    rules:
      - record: "bad name"
        expr: up
      - alert: X
        expr: up +
YML
for f in "$tmp/rules.yml" "$tmp/bad.yml"; do
  set +e
  promtool check rules "$f" >/dev/null 2>&1; prc=$?
  "$cairnctl" check rules "$f" >/dev/null 2>&1; crc=$?
  set -e
  [[ $prc == "$crc" ]] || fail "check rules $f: promtool exit $prc, cairnctl exit $crc"
done
echo "check rules verdicts agree"
