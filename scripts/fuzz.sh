#!/usr/bin/env bash
# Runs each libFuzzer target (`FuzzTarget`: replication-messages, tranlog-frames, http-requests,
# backup) for FUZZ_SECONDS seconds (default 30), starting from seeds made by the project's own
# encoders. A crash, hang (10 s per input) or memory blow-up (2 GiB) fails the run: the input is
# copied into Tests/FuzzRegressionTests/Inputs/TARGET/, where FuzzRegressionTests runs it on every
# test run once fixed. Part of the test command (see README); FUZZ_SECONDS=0 skips the fuzzing itself.
#
# Usage: scripts/fuzz.sh [TARGET…]     Environment: FUZZ_SECONDS [30]
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(replication-messages tranlog-frames http-requests backup)
[[ $FUZZ_SECONDS -gt 0 ]] || { echo "fuzz: FUZZ_SECONDS=0, not fuzzing"; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build --product understudy-fuzz >/dev/null
"$(swift build --show-bin-path)/understudy-fuzz" seeds "$work/seeds" >/dev/null
# -DFUZZING: the binary is libFuzzer's driver, not the seed writer (Sources/understudy-fuzz).
swift build --scratch-path .build-fuzz --product understudy-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING >/dev/null
fuzzer=$(swift build --scratch-path .build-fuzz --show-bin-path)/understudy-fuzz

failed=0
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target" "$work/found/$target"
    echo "fuzz: $target for ${FUZZ_SECONDS}s"
    if ! UNDERSTUDY_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/found/$target/" "$work/corpus/$target" "$work/seeds/$target" \
        >"$work/$target.log" 2>&1; then
        failed=1
        tail -40 "$work/$target.log"
        for input in "$work/found/$target"/*; do
            [[ -e $input ]] || continue
            kept=Tests/FuzzRegressionTests/Inputs/$target/$(basename "$input")
            cp "$input" "$kept"
            echo "fuzz: $target failed on $kept; replay it with: $(swift build --show-bin-path)/understudy-fuzz run $target $kept"
        done
    else
        grep -E "^stat::number_of_executed_units|^Done" "$work/$target.log" | tr '\n' ' '
        echo
    fi
done
exit $failed
