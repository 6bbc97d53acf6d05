#!/usr/bin/env bash
# Alerting end to end: cairn scrapes a target that is down, an alerting rule on `up`
# fires, and the alert must reach a real Alertmanager (Debian package
# prometheus-alertmanager) with its labels and expanded annotations; once the target
# comes up the rule resolves and Alertmanager must stop listing the alert as active.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cairn=$build/bin/cairn
am=$(command -v prometheus-alertmanager || command -v alertmanager || true)
[[ -n $am ]] || { echo "SKIP: prometheus-alertmanager not installed"; exit 77; }
[[ -x $cairn ]] || { echo "FAIL: $cairn missing"; exit 1; }

source "$(dirname "$0")/lib.sh"
it_init cairn_am_it
cport=$(free_port); gport=$(free_port); aport=$(free_port); tport=$(free_port)

fail() {
  echo "FAIL: $*"
  echo "--- cairn log"; tail -20 "$tmp/cairn.log" || true
  echo "--- alertmanager log"; tail -20 "$tmp/am.log" || true
  exit 1
}

printf 'route:\n  receiver: "null"\n  group_wait: 1s\nreceivers:\n  - name: "null"\n' >"$tmp/am.yml"
"$am" --config.file="$tmp/am.yml" --web.listen-address=127.0.0.1:$aport \
  --storage.path="$tmp/am" --cluster.listen-address= >"$tmp/am.log" 2>&1 &
pids+=($!)

cat >"$tmp/rules.yml" <<'YML'
groups:
  - name: availability
    interval: 1s
    rules:
      - alert: VictimDown
        expr: up{job="victim"} == 0
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} of job {{ $labels.job }} is down (up={{ $value }})"
YML
cat >"$tmp/cairn.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 500ms
  evaluation_interval: 1s
  external_labels:
    cluster: it
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$aport']
scrape_configs:
  - job_name: victim
    static_configs:
      - targets: ['127.0.0.1:$tport']
YML
"$cairn" --config.file="$tmp/cairn.yml" --web.listen-address=127.0.0.1:$cport \
  --grpc.listen-address=127.0.0.1:$gport --storage.tsdb.path="$tmp/data" >"$tmp/cairn.log" 2>&1 &
pids+=($!)

alerts() { curl -sf "http://127.0.0.1:$aport/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true" || true; }

# 1. The target is down: the alert fires and reaches Alertmanager.
got=""
for _ in $(seq 1 60); do
  a=$(alerts)
  if [[ $a == *'"alertname":"VictimDown"'* ]]; then got=$a; break; fi
  sleep 1
done
[[ -n $got ]] || fail "VictimDown never reached Alertmanager; last answer: $(alerts)"
python3 - "$got" "$tport" <<'PY' || fail "alert in Alertmanager lacks labels or annotations: $got"
import json, sys
alerts = [a for a in json.loads(sys.argv[1]) if a["labels"].get("alertname") == "VictimDown"]
assert len(alerts) == 1, alerts
a = alerts[0]
want = {"alertname": "VictimDown", "job": "victim", "instance": "127.0.0.1:" + sys.argv[2],
        "severity": "page", "cluster": "it"}
for k, v in want.items():
    assert a["labels"].get(k) == v, (k, a["labels"])
assert a["annotations"]["summary"] == "127.0.0.1:%s of job victim is down (up=0)" % sys.argv[2], a
assert a["status"]["state"] == "active", a
assert "/graph?g0.expr=" in a["generatorURL"], a
PY
echo "firing alert in Alertmanager: labels and annotations as expected"
curl -sf "http://127.0.0.1:$cport/api/v1/alerts" | grep -q '"state":"firing"' \
  || fail "cairn's /api/v1/alerts does not show the alert firing"

# 2. The target comes up: the rule resolves and Alertmanager drops the alert.
mkdir -p "$tmp/www"
printf '# TYPE victim_metric gauge\nvictim_metric 1\n' >"$tmp/www/metrics"
(cd "$tmp/www" && exec python3 -m http.server "$tport" --bind 127.0.0.1) >"$tmp/www.log" 2>&1 &
pids+=($!)
resolved=""
for _ in $(seq 1 60); do
  a=$(alerts)
  if [[ -n $a && $a != *'"alertname":"VictimDown"'* ]]; then resolved=1; break; fi
  sleep 1
done
[[ -n $resolved ]] || fail "VictimDown still active in Alertmanager after the target came up: $(alerts)"
echo "resolved alert gone from Alertmanager's active alerts"
echo "PASS"
