#!/usr/bin/env bash
# The main job on one machine, on loopback, in a temporary directory:
#   1. a primary and a hot standby streaming from it, under load from 16 concurrent clients, with
#      the live status of both (the standby's lag per stage);
#   2. the standby catches up; the primary is killed (kill -9); the standby is promoted and
#      accepts writes, reporting how many records were lost (0 when it had caught up);
#   3. a compressed full backup of the promoted node, verified, and restored on a third node;
#   4. the tranlog tools on the promoted node's logs.
# Everything it starts is stopped on exit. DEMO_SECONDS sets the load duration.
set -euo pipefail
cd "$(dirname "$0")/.."

source deploy/lib/nodes.sh
begin_scratch
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
applied() { "$bin/understudy" status --node "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['repository']['applied']['seqno'])"; }

step "a primary with a replication key"
head -c 32 /dev/urandom >"$work/replication.key" && chmod 600 "$work/replication.key"
"$bin/understudy" init --data "$work/primary" --source-id demo-primary
start_node "$work/primary.log" start --data "$work/primary" --checkpoint-seconds 5 \
    --replication 127.0.0.1:0 --replication-key-file "$work/replication.key"
primary=$url primary_replication=$replication
primary_pid=${pids[-1]}
echo "primary: http $primary, replication $primary_replication"
"$bin/understudy-load" --node "$primary" --clients 4 --value-bytes 100 --keys 5000 --commits 5000 >/dev/null

step "a hot standby from a snapshot of the running primary"
"$bin/understudy" backup snapshot --node "$primary" --data "$work/primary" --to "$work/standby"
start_node "$work/standby.log" standby --data "$work/standby" --primary "$primary_replication" \
    --replication 127.0.0.1:0 --replication-key-file "$work/replication.key"
standby=$url
echo "standby: http $standby"

step "load on the primary (16 clients, ${DEMO_SECONDS:-8} s); live status of both every 2 s"
"$bin/understudy-load" --node "$primary" --clients 16 --value-bytes 100 --keys 5000 --seconds "${DEMO_SECONDS:-8}" &
load=$!
while kill -0 "$load" 2>/dev/null; do
    sleep 2
    echo "-- primary"; "$bin/understudy" status --node "$primary" | grep -E "^(applied|objects|standby)" | sed 's/^/  /'
    echo "-- standby"; "$bin/understudy" status --node "$standby" | grep -E "^(role|replication|received|flushed|applied):" | sed 's/^/  /'
done
wait "$load"

step "the standby catches up (replication is asynchronous: wait before failing over)"
"$bin/understudy" put demo-key "written to the primary" --node "$primary" >/dev/null
for _ in $(seq 1 200); do [ "$(applied "$standby")" = "$(applied "$primary")" ] && break; sleep 0.05; done
echo "primary applied seqno $(applied "$primary"), standby applied seqno $(applied "$standby")"
"$bin/understudy" put demo-key "a standby refuses writes" --node "$standby" || true

step "kill -9 the primary, promote the standby"
kill -KILL "$primary_pid"
{ wait "$primary_pid"; } 2>/dev/null || true
"$bin/understudy" promote --node "$standby" --data "$work/standby"
"$bin/understudy" put after-promote "accepted by the new primary" --node "$standby"
"$bin/understudy" get demo-key --node "$standby"; echo

step "a compressed full backup of the new primary, verified and restored on a third node"
"$bin/understudy" backup full --node "$standby" --data "$work/standby" --to "$work/after-failover.bak" --compress
"$bin/understudy" backup verify "$work/after-failover.bak.gz" | head -3
"$bin/understudy" init --data "$work/restored" --source-id demo-restored >/dev/null
start_node "$work/restored.log" start --data "$work/restored" --restore-mode
restored=$url
"$bin/understudy" restore backup "$work/after-failover.bak.gz" --node "$restored" --data "$work/restored" | head -1
"$bin/understudy" restore logs --node "$restored" --data "$work/restored" --archive "$work/standby/tranlogs" | head -1
"$bin/understudy" restore commit --node "$restored" --data "$work/restored" | head -1

step "the new primary's tranlogs: the chain across both epochs"
"$bin/understudy" tranlog verify "$work/standby/tranlogs"
