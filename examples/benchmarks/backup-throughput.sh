#!/usr/bin/env bash
# Full backup and restore throughput (MB/s of object data, objects/s), compressed and not, next to
# `tar` and `tar | gzip` of the same data directory, measured in the same run on this machine.
# Usage: examples/benchmarks/backup-throughput.sh   (OBJECTS=200000 VALUE_BYTES=1000 by default)
# Prints a Markdown table. Uses a scratch directory under the project (same disk as real data).
set -euo pipefail
cd "$(dirname "$0")/../.."
objects=${OBJECTS:-200000}
value_bytes=${VALUE_BYTES:-1000}

source deploy/lib/nodes.sh
begin_scratch release "$PWD"

seconds() { python3 -c "import time; print(time.time())"; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }

"$bin/understudy" init --data "$work/primary" --source-id bench >/dev/null
start_node "$work/primary.log" start --data "$work/primary"; primary=$url
"$bin/understudy-load" --node "$primary" --clients 32 --value-bytes "$value_bytes" --keys "$objects" --commits $((objects * 2)) >/dev/null
"$bin/understudy" checkpoint --node "$primary" --data "$work/primary" >/dev/null
# Random keys leave some of the key space unwritten: count what the node actually holds.
objects=$("$bin/understudy" status --node "$primary" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['repository']['objectCount'])")
data_mb=$(python3 -c "print(round($objects * ($value_bytes + 10) / 1e6, 1))")
echo "objects: $objects × ${value_bytes} B values (≈ ${data_mb} MB of keys and values; every value is the load generator's"
echo "one random value, so compression ratios are far better than real data would give); data directory: $(du -sh "$work/primary" | cut -f1)"
echo
echo "| operation | seconds | MB/s (object data) | objects/s | output size |"
echo "|---|---:|---:|---:|---:|"

row() { # name start end size
    local secs; secs=$(elapsed "$2" "$3")
    echo "| $1 | $secs | $(python3 -c "print(f'{$data_mb / $secs:,.1f}')") | $(rate "$objects" "$secs") | $4 |"
}

for mode in plain compress; do
    flag=(); suffix=""
    if [ "$mode" = compress ]; then flag=(--compress); suffix=".gz"; fi
    start=$(seconds)
    "$bin/understudy" backup full --node "$primary" --data "$work/primary" --to "$work/full-$mode.bak" "${flag[@]}" >/dev/null
    end=$(seconds)
    row "backup full ($mode)" "$start" "$end" "$(du -h "$work/full-$mode.bak$suffix" | cut -f1)"

    "$bin/understudy" init --data "$work/restore-$mode" --source-id restore >/dev/null
    start_node "$work/restore-$mode.log" start --data "$work/restore-$mode" --restore-mode; node=$url
    start=$(seconds)
    "$bin/understudy" restore backup "$work/full-$mode.bak$suffix" --node "$node" --data "$work/restore-$mode" >/dev/null
    end=$(seconds)
    row "restore backup ($mode)" "$start" "$end" "-"
done

start=$(seconds); tar -C "$work" -cf "$work/primary.tar" primary; end=$(seconds)
row "tar of the data directory" "$start" "$end" "$(du -h "$work/primary.tar" | cut -f1)"
start=$(seconds); tar -C "$work" -cf - primary | gzip -1 >"$work/primary.tar.gz"; end=$(seconds)
row "tar | gzip -1 of the data directory" "$start" "$end" "$(du -h "$work/primary.tar.gz" | cut -f1)"
start=$(seconds); tar -C "$work" -cf - primary | gzip >"$work/primary6.tar.gz"; end=$(seconds)
row "tar | gzip (level 6) of the data directory" "$start" "$end" "$(du -h "$work/primary6.tar.gz" | cut -f1)"
