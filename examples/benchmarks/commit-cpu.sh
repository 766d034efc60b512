#!/usr/bin/env bash
# A lone commit's CPU, beside PostgreSQL: one client committing one at a time (100-byte values, as
# commit-throughput.sh's first cell) for CELL_SECONDS, with the CPU each system used per commit.
# For Understudy the node's threads are counted one by one (/proc/PID/task/*/stat); for PostgreSQL,
# whose backend lives only as long as pgbench's connection, the whole machine's busy time
# (/proc/stat) is counted, pgbench included, and the same machine-wide figure is given for ours.
# With --pin every thread of both servers runs on vCPU 1 and the client on vCPU 0: a hand-off
# between a server's threads then never wakes the other vCPU.
#
# Usage: examples/benchmarks/commit-cpu.sh [--pin] [--json FILE]
# Environment (defaults in brackets): CELL_SECONDS [5]  KEYS [100000]  BUILD_PATH [.build]
#   SKIP_BUILD [0]  BENCH_DIR (scratch directory)
set -euo pipefail
CELL_SECONDS=${CELL_SECONDS:-5}
KEYS=${KEYS:-100000}
SKIP_BUILD=${SKIP_BUILD:-0}
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
log() { echo "commit-cpu: $*" >&2; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
parse_options "[--pin] [--json FILE]" --pin PIN "$@"
build
source "$PROJECT/deploy/lib/nodes.sh"
WORK=$(mktemp -d "$(scratch_root)/understudy-commit-cpu.XXXXXX")
chmod 755 "$WORK"
pids=()
PG_CLUSTERS=()
trap cleanup EXIT

client=()
[[ $PIN == 1 ]] && client=(taskset -c 0)
pin_server() { [[ $PIN == 1 ]] && for pid in "$@"; do taskset -a -cp 1 "$pid" >/dev/null; done; return 0; }
# The machine's busy ticks so far: "user system" (system with interrupts; steal is not ours).
machine_busy() { awk '/^cpu /{print $2 + $3, $4 + $7 + $8}' /proc/stat; }
# Each thread of PID: "tid name user-ticks system-ticks".
thread_ticks() { for task in /proc/"$1"/task/*; do echo "${task##*/} $(tr ' ' _ <"$task/comm") $(awk '{print $14, $15}' "$task/stat")"; done | LC_ALL=C sort; }
per_commit() { python3 -c "print(round($1 * 1e6 / $(getconf CLK_TCK) / $2, 1))"; }
# machine_per_commit "USER SYSTEM" (before) "USER SYSTEM" (after) COMMITS: "user-µs system-µs".
machine_per_commit() {
    local before=($1) after=($2)
    echo "$(per_commit $((after[0] - before[0])) "$3") $(per_commit $((after[1] - before[1])) "$3")"
}

# --- Understudy ---
"$bin/understudy" init --data "$WORK/node" --source-id commit-cpu >/dev/null
start_node "$WORK/node.log" start --data "$WORK/node"
node=${pids[-1]}
pin_server "$node"
thread_ticks "$node" >"$WORK/threads-before"
before=$(machine_busy)
"${client[@]}" "$bin/understudy-load" --node "$url" --clients 1 --value-bytes 100 --keys "$KEYS" \
    --seconds "$CELL_SECONDS" --json >"$WORK/load.json"
after=$(machine_busy)
thread_ticks "$node" >"$WORK/threads-after"
stop_last_node
commits=$(jq -r .commits "$WORK/load.json")
u_p50=$(jq -r .latencyMilliseconds.p50 "$WORK/load.json")
read -r u_user u_system <<<"$(machine_per_commit "$before" "$after" "$commits")"
# Threads that used CPU in the run, by name: "name user-µs system-µs" per commit.
LC_ALL=C join "$WORK/threads-before" "$WORK/threads-after" | awk '{print $2, $6 - $3, $7 - $4}' | while read -r name user system; do
    [[ $((user + system)) -gt 0 ]] && echo "$name $(per_commit "$user" "$commits") $(per_commit "$system" "$commits")"
done >"$WORK/threads"

# --- PostgreSQL 15, the server commit-throughput.sh runs ---
PG_PORT=$(free_port)
mkdir "$WORK/pg" "$WORK/pgsocket" "$WORK/tx"
[[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg" "$WORK/pgsocket" "$WORK/tx"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --no-instructions >/dev/null
printf 'fsync = on\nsynchronous_commit = on\nshared_buffers = 256MB\n' >>"$WORK/pg/postgresql.conf"
pg_start "$WORK/pg" "$PG_PORT"
postmaster=$(head -1 "$WORK/pg/postmaster.pid")
# Backends fork from the postmaster and keep its affinity.
pin_server "$postmaster" $(pgrep -P "$postmaster")
psql_at "$PG_PORT" -c "CREATE TABLE kv (key text PRIMARY KEY, value bytea)"
write_upsert_script 100 "$WORK/upsert.sql"
before=$(machine_busy)
"${client[@]}" "$PG_BIN/pgbench" -n -M prepared -f "$WORK/upsert.sql" -D keys="$KEYS" -c 1 -j 1 -T "$CELL_SECONDS" \
    -l --log-prefix="$WORK/tx/tx" -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >"$WORK/pgbench.out" 2>&1 \
    || { cat "$WORK/pgbench.out" >&2; exit 1; }
after=$(machine_busy)
transactions=$(cat "$WORK"/tx/tx.* | wc -l)
p_p50=$(cat "$WORK"/tx/tx.* | awk '{print $3}' | sort -n | awk '{a[NR] = $1} END {printf "%.3f", a[int(NR * 0.5 + 0.999999)] / 1000}')
read -r p_user p_system <<<"$(machine_per_commit "$before" "$after" "$transactions")"

echo "one client, 100-byte values, ${CELL_SECONDS} s$([[ $PIN == 1 ]] && echo ", servers on vCPU 1, client on vCPU 0")"
echo "| | commits | p50 ms | machine CPU µs per commit, user + system |"
echo "|---|---:|---:|---|"
echo "| Understudy | $commits | $u_p50 | $u_user + $u_system |"
echo "| PostgreSQL 15 | $transactions | $p_p50 | $p_user + $p_system |"
echo
echo "| Understudy's thread | CPU µs per commit, user + system |"
echo "|---|---|"
awk '{printf "| %s | %s + %s |\n", $1, $2, $3}' "$WORK/threads"
if [[ -n $JSON_FILE ]]; then
    jq -n --argjson pin "$PIN" --argjson uc "$commits" --argjson up "$u_p50" --argjson uu "$u_user" --argjson us "$u_system" \
        --argjson pc "$transactions" --argjson pp "$p_p50" --argjson pu "$p_user" --argjson ps "$p_system" \
        --slurpfile threads <(awk '{printf "{\"%s\": {\"user\": %s, \"system\": %s}}\n", $1, $2, $3}' "$WORK/threads") \
        '{pin: ($pin == 1),
          understudy: {commits: $uc, p50_ms: $up, machine_cpu_us_per_commit: {user: $uu, system: $us},
                       threads_cpu_us_per_commit: ($threads | add // {})},
          postgres: {commits: $pc, p50_ms: $pp, machine_cpu_us_per_commit: {user: $pu, system: $ps}}}' >"$JSON_FILE"
fi
