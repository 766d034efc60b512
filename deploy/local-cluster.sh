#!/usr/bin/env bash
# A managed cluster on loopback, in a temporary directory: a 3-member etcd cluster, three nodes run by
# `understudy join` (one initialized, two filled by base copy from the leader), a steady load on the
# leader, and the live `understudy cluster status` until Ctrl-C (then everything is stopped and removed).
#   TTL         the leader lease's TTL in seconds (default 5)
#   LOAD_RATE   commits per second of the load (default 200; 0: no load)
# Try in another terminal: kill -9 the leader's pid (printed), watch a standby take over and the old
# node come back as a standby when started again; or stop two etcd members and watch writes stop.
# Needs etcd (Debian: apt-get install etcd-server).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd is not installed: apt-get install etcd-server" >&2; exit 1; }

source deploy/lib/nodes.sh
begin_scratch
trap 'end_scratch; echo; echo "stopped; $work removed"' EXIT
trap 'exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cluster=local
etcd_urls=() initial=()
for i in 0 1 2; do
    client[$i]=$(free_port) peer[$i]=$(free_port)
    etcd_urls+=("http://127.0.0.1:${client[$i]}")
    initial+=("etcd$i=http://127.0.0.1:${peer[$i]}")
done
etcd_list=$(IFS=,; echo "${etcd_urls[*]}")
for i in 0 1 2; do
    etcd --name "etcd$i" --data-dir "$work/etcd$i" \
        --listen-client-urls "http://127.0.0.1:${client[$i]}" --advertise-client-urls "http://127.0.0.1:${client[$i]}" \
        --listen-peer-urls "http://127.0.0.1:${peer[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[$i]}" \
        --initial-cluster "$(IFS=,; echo "${initial[*]}")" --initial-cluster-state new >"$work/etcd$i.log" 2>&1 &
    pids+=($!) etcd_pid[$i]=$!
done

head -c 32 /dev/urandom >"$work/replication.key" && chmod 600 "$work/replication.key"
"$bin/understudy" init --data "$work/a" >/dev/null
for name in a b c; do
    http=127.0.0.1:$(free_port)
    "$bin/understudy" join --data "$work/$name" --name "$name" --etcd "$etcd_list" --cluster "$cluster" --ttl "${TTL:-5}" \
        --http "$http" --replication "127.0.0.1:$(free_port)" --replication-key-file "$work/replication.key" \
        >"$work/$name.out" 2>"$work/$name.log" &
    pids+=($!)
    echo "node $name  pid $!  http://$http  (data $work/$name, log $work/$name.log)"
    # `a` holds the repository: let it take the lease before the others look for a leader to copy from.
    [ "$name" = a ] && sleep "${TTL:-5}"
done
echo "etcd   pids ${etcd_pid[*]}  $etcd_list"

if [ "${LOAD_RATE:-200}" != 0 ]; then
    leader_url=$("$bin/understudy" cluster status --etcd "$etcd_list" --cluster "$cluster" --json \
        | python3 -c 'import json,sys; v=json.load(sys.stdin); print("http://" + v["leader"]["http"])')
    "$bin/understudy-load" --node "$leader_url" --clients 4 --rate "${LOAD_RATE:-200}" --keys 10000 --seconds 86400 \
        >"$work/load.log" 2>&1 &
    pids+=($!)
    echo "load   ${LOAD_RATE:-200} commits/s on $leader_url (log $work/load.log)"
fi
echo "Ctrl-C stops everything."
while true; do
    sleep 1
    echo "---- $(date -u +%T)"
    "$bin/understudy" cluster status --etcd "$etcd_list" --cluster "$cluster" || true
done
