#!/usr/bin/env bash
# A failover drill on loopback, in a temporary directory (removed on exit):
#   1. a primary A and a hot standby B (B copies its base from A over the replication port);
#   2. load on A; A is killed with kill -9 in the middle of it;
#   3. B is promoted: it reports its final position and a lower bound of the records lost;
#      the exact loss is read from A's surviving tranlog;
#   4. B accepts writes; A, restarted as a standby of B, is refused as forked (it committed past the
#      fork); its directory is set aside and A is re-seeded from B over the wire, and converges.
# DRILL_SECONDS sets the load duration before the kill (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

source deploy/lib/nodes.sh
begin_scratch
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status() { "$bin/understudy" status --node "$1" --json; }
key="$work/replication.key"

step "A: a primary; B: a standby that copies its base from A over the wire"
head -c 32 /dev/urandom >"$key" && chmod 600 "$key"
"$bin/understudy" init --data "$work/A" --source-id node-a >/dev/null
start_node "$work/A.log" start --data "$work/A" --replication 127.0.0.1:0 --replication-key-file "$key"
a=$url a_replication=$replication a_pid=${pids[-1]}
"$bin/understudy-load" --node "$a" --clients 4 --keys 2000 --commits 2000 >/dev/null
start_node "$work/B.log" standby --data "$work/B" --primary "$a_replication" --replication 127.0.0.1:0 \
    --replication-key-file "$key"
b=$url b_replication=$replication
echo "A $a (replication $a_replication); B $b (replication $b_replication)"

step "load on A for ${DRILL_SECONDS:-3} s, then kill -9 A in the middle of it"
"$bin/understudy-load" --node "$a" --clients 8 --keys 2000 --seconds 60 >/dev/null 2>&1 &
load=$!
sleep "${DRILL_SECONDS:-3}"
kill -KILL "$a_pid"
{ wait "$a_pid"; } 2>/dev/null || true
wait "$load" 2>/dev/null || true
echo "A killed; B's view: $(status "$b" | json "d['replication']['state'], 'applied', d['repository']['applied']['seqno'], 'primary last', d['replication']['primaryLastSeqno']")"

step "promote B"
"$bin/understudy" promote --node "$b" --data "$work/B" --json >"$work/promote.json"
applied=$(json "d['applied']['seqno']" <"$work/promote.json")
json "'epoch', d['epoch'], 'applied seqno', d['applied']['seqno'], 'lostRecords (lower bound)', d['lostRecords'], 'ms', d['milliseconds']" <"$work/promote.json"
really_lost=$("$bin/understudy" tranlog list "$work/A/tranlogs" --from-seqno $((applied + 1)) --headers | wc -l)
echo "A's tranlog holds $really_lost record(s) past seqno $applied: that is what the failover lost"
"$bin/understudy" put drill "written on B after the failover" --node "$b"

step "A comes back as a standby of B: refused, it committed past the fork"
start_node "$work/A-again.log" standby --data "$work/A" --primary "$b_replication" --replication-key-file "$key"
a_again=$url a_again_pid=${pids[-1]}
for _ in $(seq 1 100); do
    rejection=$(status "$a_again" | json "(d.get('replication') or {}).get('lastRejection') or ''")
    [ -n "$rejection" ] && break; sleep 0.1
done
echo "A's status: ${rejection:-no rejection yet (it had not committed past the fork)}"
kill -TERM "$a_again_pid"; { wait "$a_again_pid"; } 2>/dev/null || true

step "re-seed A from B: set its directory aside, copy a new base over the wire"
mv "$work/A" "$work/A.forked-at-seqno-$applied"
start_node "$work/A-reseeded.log" standby --data "$work/A" --primary "$b_replication" --replication-key-file "$key"
a_new=$url
target=$(status "$b" | json "d['repository']['applied']['seqno']")
for _ in $(seq 1 200); do
    [ "$(status "$a_new" | json "d['repository']['applied']['seqno']")" = "$target" ] && break; sleep 0.1
done
echo "B (primary): seqno $target, $(status "$b" | json "d['repository']['objectCount']") objects"
echo "A (standby): seqno $(status "$a_new" | json "d['repository']['applied']['seqno']"), $(status "$a_new" | json "d['repository']['objectCount']") objects, state $(status "$a_new" | json "d['replication']['state']")"
"$bin/understudy" get drill --node "$a_new"; echo
