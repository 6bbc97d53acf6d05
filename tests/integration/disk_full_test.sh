#!/usr/bin/env bash
# Disk full, for real: cairn's data directory lives on a small tmpfs mounted by the
# test (needs root; skipped otherwise). After some acknowledged writes the filesystem
# is filled up: remote writes must then fail with a 5xx and a clear log line, queries
# must keep answering with the data already stored, and once space is freed ingestion
# must resume. A restart must find exactly the acknowledged samples (no corruption).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cairn=$build/bin/cairn
cairnctl=$build/bin/cairnctl
[[ -x $cairn && -x $cairnctl ]] || { echo "FAIL: $cairn or $cairnctl missing"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root to mount a small tmpfs"; exit 77; }

tmp=$(mktemp -d /tmp/cairn_diskfull_XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=24m tmpfs "$mnt" 2>"$tmp/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
  rm -rf "$tmp"
  exit 77
fi
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$(dirname "$0")/lib.sh"  # free_port (its own cleanup: the tmpfs)
port=$(free_port); gport=$(free_port)
printf 'global:\n  scrape_interval: 1h\n' >"$tmp/p.yml"
start_cairn() {
  "$cairn" --config.file="$tmp/p.yml" --storage.tsdb.path="$mnt/data" \
    --web.listen-address=127.0.0.1:$port --grpc.listen-address=127.0.0.1:$gport \
    >>"$tmp/cairn.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && return 0; sleep 0.1; done
  fail "cairn did not start"
}
fail() {
  echo "FAIL: $*"
  echo "--- cairn log"; tail -20 "$tmp/cairn.log" || true
  df -h "$mnt" || true
  exit 1
}
now=$(date +%s)
load() {  # load START_MIN_AGO: 100 series x 10 samples at 15 s, starting that many minutes ago
  # Prints loadgen's summary line; samples=N counts the acknowledged samples.
  "$cairnctl" loadgen --url="http://127.0.0.1:$port/api/v1/write" --series=100 --rounds=10 \
    --batch=50 --concurrency=1 --start-ms=$(( (now - $1 * 60) * 1000 )) --quiet
}
total() {  # samples stored in the last hour, over all series
  curl -sf "http://127.0.0.1:$port/api/v1/query" --data-urlencode \
    'query=sum(count_over_time({__name__=~".+"}[1h]))' --data-urlencode "time=$now" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}

acked() { sed -n 's/.*samples=\([0-9]*\) .*/\1/p' <<<"$1" | head -1; }

start_cairn
load 40 >/dev/null || fail "first load failed"
[[ $(total) == 1000 ]] || fail "expected 1000 samples after the first load, got $(total)"

# Fill the filesystem.
dd if=/dev/zero of="$mnt/filler" bs=1M 2>/dev/null || true
dd if=/dev/zero of="$mnt/filler2" bs=4k 2>/dev/null || true
set +e
out=$(load 30 2>&1)
rc=$?
set -e
echo "load on a full disk: rc=$rc: $out"
[[ $rc != 0 ]] || fail "writes on a full disk were acknowledged"
[[ $out =~ http\ 5[0-9][0-9] ]] || fail "writes on a full disk did not get a 5xx: $out"
# The last free bytes may still take a few requests: those were acknowledged and count.
full_acked=$(acked "$out")
expect=$((1000 + full_acked))
grep -qi "no space left on device" "$tmp/cairn.log" || fail "no clear log line naming the full disk"
kill -0 "$pid" 2>/dev/null || fail "cairn died on the full disk"
# Reads keep working and show what was stored before.
[[ $(total) == "$expect" ]] || fail "reads on a full disk: expected $expect samples, got $(total)"

# Space comes back: ingestion resumes.
rm -f "$mnt/filler" "$mnt/filler2"
load 20 >/dev/null || fail "writes after space came back failed"
expect=$((expect + 1000))
[[ $(total) == "$expect" ]] || fail "expected $expect samples after space came back, got $(total)"

# A restart finds exactly the acknowledged samples.
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
start_cairn
[[ $(total) == "$expect" ]] || fail "after restart: expected $expect samples, got $(total)"
echo "PASS"
