#!/usr/bin/env bash
# Where a lone commit's time goes between threads: one node, one client committing one at a time
# (`understudy-load --clients 1`, 100-byte values), and `perf sched record -a` for TRACE_SECONDS in
# the middle of it. Prints, for each kind of wake-up (waker → woken thread), how long the woken
# thread waited for a CPU: on a VM whose idle vCPUs halt, a wake-up on the other vCPU costs tens
# of µs where one on the waker's own costs a few (docs/BENCHMARKS.md, "A lone commit's wake-ups").
#
# Usage: examples/benchmarks/commit-wakeups.sh
# Environment (defaults in brackets): TRACE_SECONDS [1]  BUILD_PATH [.build]  SKIP_BUILD [0]
#   MIN_COUNT [100] (rows for pairs seen fewer times are left out)  BENCH_DIR (scratch directory)
set -euo pipefail
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
TRACE_SECONDS=${TRACE_SECONDS:-1}
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
SKIP_BUILD=${SKIP_BUILD:-0}
log() { echo "commit-wakeups: $*" >&2; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
require_perf
build
source "$PROJECT/deploy/lib/nodes.sh"
WORK=$(mktemp -d "$(scratch_root)/understudy-commit-wakeups.XXXXXX")
pids=()
PG_CLUSTERS=()
trap cleanup EXIT

"$bin/understudy" init --data "$WORK/node" --source-id wakeups >/dev/null
start_node "$WORK/node.log" start --data "$WORK/node"
"$bin/understudy-load" --node "$url" --clients 1 --seconds $((TRACE_SECONDS + 3)) --json >"$WORK/load.json" &
pids+=($!)
sleep 1  # past the connection and the first commits
perf sched record -a -o "$WORK/sched.data" -- sleep "$TRACE_SECONDS" 2>/dev/null >/dev/null
wait "${pids[-1]}"
unset 'pids[-1]'
log "one client: $(jq -r '"\(.commits) commits, p50 \(.latencyMilliseconds.p50) ms"' "$WORK/load.json")"
perf sched timehist -i "$WORK/sched.data" -w 2>/dev/null | python3 "$PROJECT/examples/benchmarks/lib/wakeups.py" "${MIN_COUNT:-100}"
