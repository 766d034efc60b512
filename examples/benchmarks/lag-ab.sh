#!/usr/bin/env bash
# Replay lag of two builds of Understudy, alternating A, B, A, B…: for each run a primary and a
# streaming standby (copied with `backup snapshot`) take open-loop load (`understudy-load --rate`,
# 32 clients, 100-byte values to random keys among 100,000), and the standby is sampled as
# standby-replication.sh's part (b) samples it (lib/lag_sampler.py), only more often. For comparing
# a change to the replay path without the whole benchmark; PostgreSQL is not run.
# Prints one line per run: the build, then p50 ms, p99 ms, samples, and the share of samples that
# found flushed records not yet applied.
#
# Usage: examples/benchmarks/lag-ab.sh BIN_A BIN_B   (directories holding understudy and understudy-load)
# Environment (defaults in brackets): RATE [5000] commits/s  RUN_SECONDS [15]  PAIRS [4]
#   INTERVAL [0.02] seconds between samples  BENCH_DIR (where the scratch directory goes)
set -euo pipefail
[[ $# == 2 ]] || { echo "usage: $0 BIN_A BIN_B" >&2; exit 2; }
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
RATE=${RATE:-5000} RUN_SECONDS=${RUN_SECONDS:-15} PAIRS=${PAIRS:-4} INTERVAL=${INTERVAL:-0.02}
log() { echo "lag-ab: $*" >&2; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
source "$PROJECT/deploy/lib/nodes.sh"
WORK=$(mktemp -d "$(scratch_root)/understudy-lag-ab.XXXXXX")
pids=()
PG_CLUSTERS=()
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# run_once BIN: one run with the binaries in BIN; prints its summary.
run_once() {
    bin=$1
    local dir load_pid
    dir=$(mktemp -d "$WORK/run.XXXXXX")
    head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"
    "$bin/understudy" init --data "$dir/primary" --source-id lag-ab >/dev/null
    start_node "$dir/primary.log" start --data "$dir/primary" --replication 127.0.0.1:0 --replication-key-file "$dir/key"
    local primary=$url
    "$bin/understudy" backup snapshot --node "$primary" --data "$dir/primary" --to "$dir/standby" >/dev/null
    start_node "$dir/standby.log" standby --data "$dir/standby" --primary "$replication" --replication-key-file "$dir/key"
    "$bin/understudy-load" --node "$primary" --clients 32 --rate "$RATE" --value-bytes 100 --keys 100000 \
        --seconds "$RUN_SECONDS" --json >"$dir/load.json" &
    load_pid=$!
    python3 "$PROJECT/examples/benchmarks/lib/lag_sampler.py" understudy "$url" $((RUN_SECONDS - 1)) "$INTERVAL" \
        | python3 "$PROJECT/examples/benchmarks/lib/lag_sampler.py" summary
    wait "$load_pid"
    stop_all
    rm -rf "$dir"
}

for _ in $(seq "$PAIRS"); do
    for build in A B; do
        if [[ $build == A ]]; then summary=$(run_once "$1"); else summary=$(run_once "$2"); fi
        echo "$build $summary"
    done
done
