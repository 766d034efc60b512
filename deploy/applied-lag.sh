#!/usr/bin/env bash
# Applied lag of a hot standby under load, on loopback: a primary and a standby (from a snapshot),
# 16 load clients for LAG_SECONDS (default 10), and a sampler reading both nodes' /status every
# 50 ms. Prints the primary's commit rate and the standby's applied lag in records (primary's
# applied seqno minus the standby's, sampled standby first): mean, p50, p95, max.
# UNDERSTUDY_BIN=DIR runs another build's `understudy` (to compare before/after a change).
set -euo pipefail
cd "$(dirname "$0")/.."

for product in understudy understudy-load; do swift build --product "$product" >/dev/null; done
bin="${UNDERSTUDY_BIN:-$(swift build --show-bin-path)}"
load_bin="$(swift build --show-bin-path)"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
source deploy/lib/nodes.sh

head -c 32 /dev/urandom >"$work/key" && chmod 600 "$work/key"
"$bin/understudy" init --data "$work/primary" --source-id lag-primary >/dev/null
start_node "$work/primary.log" start --data "$work/primary" --replication 127.0.0.1:0 --replication-key-file "$work/key"
primary=$url primary_replication=$replication
"$bin/understudy" backup snapshot --node "$primary" --data "$work/primary" --to "$work/standby" >/dev/null
start_node "$work/standby.log" standby --data "$work/standby" --primary "$primary_replication" --replication-key-file "$work/key"
standby=$url

"$load_bin/understudy-load" --node "$primary" --clients 16 --value-bytes 100 --keys 5000 --seconds "${LAG_SECONDS:-10}" >/dev/null &
load=$!
python3 - "$primary" "$standby" "$load" <<'PY'
import json, os, sys, time, urllib.request
primary, standby, load = sys.argv[1], sys.argv[2], int(sys.argv[3])
def applied(url):
    with urllib.request.urlopen(url + "/status") as reply:
        return json.load(reply)["repository"]["applied"]["seqno"]
def running(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
lags, start, first = [], time.monotonic(), applied(primary)
while running(load):
    s = applied(standby)
    p = applied(primary)
    lags.append(p - s)
    time.sleep(0.05)
elapsed, last = time.monotonic() - start, applied(primary)
lags.sort()
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(f"commit rate {(last - first) / elapsed:.0f} records/s over {elapsed:.1f} s, {len(lags)} samples")
print(f"applied lag (records): mean {sum(lags) / len(lags):.0f}, p50 {pick(0.5)}, p95 {pick(0.95)}, max {lags[-1]}")
PY
