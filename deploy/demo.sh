#!/usr/bin/env bash
# The main job on one machine, on loopback, in a temporary directory:
#   1. a primary under load from 16 concurrent clients, with its live status;
#   2. a compressed full backup taken while the load goes on, then verified;
#   3. a second node restored from that backup in restore mode, rolled forward with the primary's
#      tranlogs, committed (a new epoch), and compared with the primary;
#   4. the tranlog tools on the primary's logs.
# Everything it starts is stopped on exit. Pass DEMO_SECONDS to change the load duration.
set -euo pipefail
cd "$(dirname "$0")/.."

# One product per call: with several --product flags, swift build builds only the last.
for product in understudy understudy-load; do swift build --product "$product" >/dev/null; done
bin="$(swift build --show-bin-path)"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

source deploy/lib/nodes.sh

step "initialize and start a primary"
"$bin/understudy" init --data "$work/primary" --source-id demo-primary
start_node "$work/primary.log" --data "$work/primary" --checkpoint-seconds 5; primary=$url
echo "primary at $primary"

step "load: 16 clients, 100-byte values, ${DEMO_SECONDS:-8} s — with the primary's status every 2 s"
"$bin/understudy-load" --node "$primary" --clients 16 --value-bytes 100 --keys 5000 --seconds "${DEMO_SECONDS:-8}" &
load=$!
while kill -0 "$load" 2>/dev/null; do
    sleep 2
    "$bin/understudy" status --node "$primary" | sed 's/^/  /' | head -12
done
wait "$load"

step "full backup (compressed) while commits go on, then verify it"
"$bin/understudy-load" --node "$primary" --clients 4 --value-bytes 100 --keys 5000 --seconds 3 >/dev/null &
load=$!
"$bin/understudy" backup full --node "$primary" --data "$work/primary" --to "$work/nightly.bak" --compress
wait "$load"
"$bin/understudy" backup verify "$work/nightly.bak.gz"

step "restore the backup on a second node, roll it forward with the primary's tranlogs, commit"
"$bin/understudy" init --data "$work/restored" --source-id demo-restored
start_node "$work/restored.log" --data "$work/restored" --restore-mode; restored=$url
"$bin/understudy" restore backup "$work/nightly.bak.gz" --node "$restored" --data "$work/restored"
"$bin/understudy" restore logs --archive "$work/primary/tranlogs" --node "$restored" --data "$work/restored"
"$bin/understudy" restore commit --node "$restored" --data "$work/restored"
printf 'objects: primary %s, restored %s\n' \
    "$("$bin/understudy" status --node "$primary" --json | sed -n 's/.*"objectCount" *: *\([0-9]*\).*/\1/p' | head -1)" \
    "$("$bin/understudy" status --node "$restored" --json | sed -n 's/.*"objectCount" *: *\([0-9]*\).*/\1/p' | head -1)"

step "the primary's tranlogs: verify the chain and look at one record"
"$bin/understudy" tranlog verify "$work/primary/tranlogs"
"$bin/understudy" tranlog list "$work/primary/tranlogs" --seqno 1000
