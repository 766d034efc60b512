#!/usr/bin/env bash
# A primary and a hot standby on loopback, in a temporary directory, under a steady load, with the
# standby's live status until Ctrl-C (then everything is stopped and removed).
#   LOAD_RATE   commits per second of the load (default 500; 0: no load)
#   LOAD_CLIENTS concurrent clients (default 8)
# The nodes' logs, data directories and URLs are printed, so another terminal can use them:
#   understudy status --node URL [--json | --watch], understudy get KEY --node URL, understudy promote …
set -euo pipefail
cd "$(dirname "$0")/.."

source deploy/lib/nodes.sh
begin_scratch
trap 'end_scratch; echo; echo "stopped; $work removed"' EXIT
trap 'exit 0' INT TERM

head -c 32 /dev/urandom >"$work/replication.key" && chmod 600 "$work/replication.key"
"$bin/understudy" init --data "$work/primary" --source-id local-primary >/dev/null
start_node "$work/primary.log" start --data "$work/primary" --checkpoint-seconds 30 \
    --replication 127.0.0.1:0 --replication-key-file "$work/replication.key"
primary=$url primary_replication=$replication

# An empty directory: the standby copies its base from the primary over the replication port.
start_node "$work/standby.log" standby --data "$work/standby" --primary "$primary_replication" \
    --replication 127.0.0.1:0 --replication-key-file "$work/replication.key"
standby=$url

if [ "${LOAD_RATE:-500}" != 0 ]; then
    "$bin/understudy-load" --node "$primary" --clients "${LOAD_CLIENTS:-8}" --rate "${LOAD_RATE:-500}" \
        --keys 10000 --seconds 86400 >"$work/load.log" 2>&1 &
    pids+=($!)
fi

cat <<INFO
primary  $primary   (replication $primary_replication, data $work/primary, log $work/primary.log)
standby  $standby   (data $work/standby, log $work/standby.log)
load     ${LOAD_RATE:-500} commits/s from ${LOAD_CLIENTS:-8} clients (log $work/load.log)
Ctrl-C stops everything.
INFO
"$bin/understudy" status --node "$standby" --watch
