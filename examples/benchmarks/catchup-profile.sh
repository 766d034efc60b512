#!/usr/bin/env bash
# Where a standby's catch-up time goes: a primary takes N commits (32 clients, 100-byte values)
# while a standby copied from it is stopped; the standby then runs under `perf record -g -e
# cpu-clock` until it has applied them. Prints the catch-up time and the top inclusive symbols
# (demangled); the perf data stays in OUT (default ./catchup.perf.data) for `perf report -i`.
#
# Usage: examples/benchmarks/catchup-profile.sh
# Environment (defaults in brackets): N [400000]  KEYS [100000]  BUILD_PATH [.build]  SKIP_BUILD [0]
#   OUT [catchup.perf.data]
set -euo pipefail
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-400000}
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
SKIP_BUILD=${SKIP_BUILD:-0}
OUT=$(realpath -m "${OUT:-catchup.perf.data}")
log() { echo "catchup-profile: $*" >&2; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
require_perf
build
source "$PROJECT/deploy/lib/nodes.sh"
WORK=$(mktemp -d "$(scratch_root)/understudy-catchup-profile.XXXXXX")
pids=()
trap 'for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

primary_ahead_of_snapshot profile-primary "$WORK/standby" "$N"
started=$(date +%s.%N)
perf record -F 999 -g -e cpu-clock -o "$OUT" -- "$bin/understudy" standby --data "$WORK/standby" \
    --primary "$primary_replication" --replication-key-file "$WORK/key" --http 127.0.0.1:0 >"$WORK/standby.out" 2>"$WORK/standby.log" &
pids+=($!)
until grep -q " ready: " "$WORK/standby.out" 2>/dev/null; do sleep 0.05; done
standby=$(sed -n 's/.*http=\([^ ]*\).*/http:\/\/\1/p' "$WORK/standby.out" | head -1)
python3 "$PROJECT/examples/benchmarks/lib/wait_applied.py" understudy "$standby" "$target"
finished=$(date +%s.%N)
echo "caught up $N commits in $(python3 -c "print(round($finished - $started, 2))") s"
kill -INT "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true
unset 'pids[-1]'   # the standby; the primary stays for the trap to stop
perf report -i "$OUT" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -40 | swift demangle --simplified || true
