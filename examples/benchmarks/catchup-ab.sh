#!/usr/bin/env bash
# A/B of a standby's catch-up between two builds, without the rest of the benchmark: one primary
# (build B) takes N commits once while a snapshot of it waits; then standbys of builds A and B
# alternate, each started on a fresh copy of that snapshot and timed until it has applied the
# primary's last record. Prints, per run, the build, the seconds, the standby's CPU seconds
# (/proc/PID/stat) and its four busiest threads' CPU seconds.
#
# Usage: examples/benchmarks/catchup-ab.sh BIN_A BIN_B [PAIRS]   (BIN: a directory holding
#        `understudy` and `understudy-load`, e.g. .build-release/release; PAIRS default 6)
# Environment: N [600000]  KEYS [100000] (keys the commits write)  BENCH_DIR (where the scratch directory goes)
set -euo pipefail
A=$1 B=$2 PAIRS=${3:-6} N=${N:-600000}
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "catchup-ab: $*" >&2; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
WORK=$(mktemp -d "$(scratch_root)/understudy-catchup-ab.XXXXXX")
pids=()
trap 'for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
bin=$B
source "$PROJECT/deploy/lib/nodes.sh"
primary_ahead_of_snapshot ab-primary "$WORK/snapshot" "$N"
for _ in $(seq "$PAIRS"); do
    for build in A B; do
        [[ $build == A ]] && standby_bin=$A || standby_bin=$B
        rm -rf "$WORK/standby" && cp -a "$WORK/snapshot" "$WORK/standby" && sync
        started=$(date +%s.%N)
        "$standby_bin/understudy" standby --data "$WORK/standby" --primary "$primary_replication" \
            --replication-key-file "$WORK/key" --http 127.0.0.1:0 >"$WORK/standby.out" 2>"$WORK/standby.log" &
        pids+=($!)
        until grep -q " ready: " "$WORK/standby.out" 2>/dev/null; do sleep 0.01; done
        standby=$(sed -n 's/.*http=\([^ ]*\).*/http:\/\/\1/p' "$WORK/standby.out" | head -1)
        python3 "$PROJECT/examples/benchmarks/lib/wait_applied.py" understudy "$standby" "$target"
        finished=$(date +%s.%N)
        cpu=$(awk '{print ($14 + $15) / 100}' "/proc/${pids[-1]}/stat")
        threads=$(for task in /proc/"${pids[-1]}"/task/*; do
            echo "$(tr ' ' _ <"$task/comm"):$(awk '{print ($14 + $15) / 100}' "$task/stat")"
        done | sort -t: -k2 -n -r | head -4 | tr '\n' ' ')
        stop_last_node
        echo "$build $(python3 -c "print(round($finished - $started, 3))") s, standby CPU $cpu s; $threads"
    done
done
