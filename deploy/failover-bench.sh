#!/usr/bin/env bash
# Failover and switchover times of a managed cluster on loopback (docs/BENCHMARKS.md): one etcd, three
# `understudy join` nodes, a writer; ROUNDS unplanned failovers (kill -9 of the leader, timed until a
# write is acknowledged by the new leader; the killed node rejoins) and ROUNDS planned switchovers
# (`cluster switchover`, timed until the target accepts writes). Prints each time and the medians.
#   TTL     the leader lease's TTL in seconds (default 10, the default of `join`)
#   ROUNDS  rounds of each (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd is not installed: apt-get install etcd-server" >&2; exit 1; }

source deploy/lib/nodes.sh
begin_scratch
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
ttl=${TTL:-10} rounds=${ROUNDS:-10} cluster=bench

client=$(free_port) peer=$(free_port)
etcd_url=http://127.0.0.1:$client
etcd --name e --data-dir "$work/etcd" --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "e=http://127.0.0.1:$peer" >"$work/etcd.log" 2>&1 &
pids+=($!)

head -c 32 /dev/urandom >"$work/key" && chmod 600 "$work/key"
"$bin/understudy" init --data "$work/a" >/dev/null
declare -A http pid
join() {
    "$bin/understudy" join --data "$work/$1" --name "$1" --etcd "$etcd_url" --cluster "$cluster" --ttl "$ttl" \
        --http "${http[$1]}" --replication "${replication[$1]}" --replication-key-file "$work/key" >>"$work/$1.out" 2>>"$work/$1.log" &
    pid[$1]=$! pids+=($!)
}
declare -A replication
for n in a b c; do http[$n]=127.0.0.1:$(free_port) replication[$n]=127.0.0.1:$(free_port); done
status_json() { "$bin/understudy" cluster status --etcd "$etcd_url" --cluster "$cluster" --json 2>/dev/null || echo '{}'; }
leader() { status_json | python3 -c 'import json,sys; v=json.load(sys.stdin); print((v.get("leader") or {}).get("name",""))'; }
standbys_ready() {
    status_json | python3 -c 'import json,sys
v=json.load(sys.stdin); m=[x["record"] for x in v.get("members",[])]
print("yes" if v.get("leader") and sum(1 for r in m if r["role"]=="standby" and r["state"] in ("streaming","idle","catching-up"))==2 else "no")'
}
await_ready() { for _ in $(seq 1 1200); do [ "$(standbys_ready)" = yes ] && return; sleep 0.1; done; echo "cluster not ready" >&2; exit 1; }
put_until_ok() { until "$bin/understudy" put --node "http://$1" "bench-$RANDOM" v >/dev/null 2>&1; do sleep 0.02; done; }

join a; sleep 2; join b; join c; await_ready
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "unplanned failover (kill -9 of the leader until a write is acknowledged), TTL $ttl s:"
failovers=()
for i in $(seq 1 "$rounds"); do
    old=$(leader); kill -9 "${pid[$old]}"; t0=$(now)
    until new=$(leader) && [ -n "$new" ] && [ "$new" != "$old" ]; do sleep 0.02; done
    put_until_ok "${http[$new]}"; t=$(echo "$(now) - $t0" | bc)
    failovers+=("$t"); echo "  round $i: $old -> $new in $t s"
    join "$old"; await_ready
done
echo "  median $(printf '%s\n' "${failovers[@]}" | median) s"

echo "planned switchover (until the target accepts writes):"
switchovers=()
for i in $(seq 1 "$rounds"); do
    old=$(leader); target=$(printf '%s\n' a b c | grep -vx "$old" | shuf -n1)
    t0=$(now)
    "$bin/understudy" cluster switchover --etcd "$etcd_url" --cluster "$cluster" --to "$target" >/dev/null
    t=$(echo "$(now) - $t0" | bc)
    switchovers+=("$t"); echo "  round $i: $old -> $target in $t s"
    await_ready
done
echo "  median $(printf '%s\n' "${switchovers[@]}" | median) s"
