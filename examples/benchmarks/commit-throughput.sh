#!/usr/bin/env bash
# Commit throughput and latency of an Understudy primary, next to PostgreSQL 15 on the same machine
# doing the same work: C clients, each with one transaction in flight, each transaction one durable
# upsert of a B-byte value to a random key among K.
#
#   Understudy: `understudy-load` (keep-alive HTTP/1.1, PUT /objects/load-N) against `understudy start`.
#   PostgreSQL: `pgbench -M prepared` running INSERT … ON CONFLICT (key) DO UPDATE on kv(key, value),
#               fsync=on, synchronous_commit=on, over TCP on 127.0.0.1 like the node.
#
# Prints one Markdown table. Everything lives in a scratch directory on the project's disk (or /tmp
# when it is a real disk), removed on exit, Ctrl-C included; both servers are stopped.
#
# Environment (defaults in brackets):
#   CELL_SECONDS [10]      length of each measurement
#   CLIENT_COUNTS ["1 16 64"], VALUE_SIZES ["100 4096"], KEYS [100000]
#   SKIP_POSTGRES [0]      1: measure Understudy only
#   BUILD_PATH [.build]    SwiftPM scratch path for the release build
#   SKIP_BUILD [0]         1: use the binaries already in BUILD_PATH/release
#   BENCH_DIR              where to create the scratch directory
set -euo pipefail

CELL_SECONDS=${CELL_SECONDS:-10}
CLIENT_COUNTS=${CLIENT_COUNTS:-"1 16 64"}
VALUE_SIZES=${VALUE_SIZES:-"100 4096"}
KEYS=${KEYS:-100000}
SKIP_POSTGRES=${SKIP_POSTGRES:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "commit-throughput: $*" >&2; }
die() { log "$*"; exit 1; }
source "$PROJECT/examples/benchmarks/lib/common.sh"

# --- scratch directory and cleanup -----------------------------------------------------------------


WORK=$(mktemp -d "$(scratch_root)/understudy-commit-bench.XXXXXX")
chmod 755 "$WORK"
NODE_PID=""
PG_STARTED=0

cleanup() {
    trap - EXIT INT TERM
    if [[ -n $NODE_PID ]]; then kill -TERM "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null || true; fi
    if [[ $PG_STARTED == 1 ]]; then as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# PostgreSQL refuses to run as root: run the server (not the clients) as the postgres user then.


# --- Understudy -----------------------------------------------------------------------------------


start_node() {
    "$bin/understudy" init --data "$WORK/data" >/dev/null
    "$bin/understudy" start --data "$WORK/data" --http 127.0.0.1:0 >"$WORK/node.out" 2>"$WORK/node.log" &
    NODE_PID=$!
    for _ in $(seq 300); do
        NODE_PORT=$(sed -n 's/^understudy primary ready: http=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$WORK/node.out")
        [[ -n $NODE_PORT ]] && return
        kill -0 "$NODE_PID" 2>/dev/null || die "the node exited: $(tail -5 "$WORK/node.log")"
        sleep 0.1
    done
    die "the node did not become ready within 30 s"
}

# Prints "commits/s p50 p99" for one cell.
understudy_cell() {
    local clients=$1 value_bytes=$2 report
    report=$("$bin/understudy-load" --node "http://127.0.0.1:$NODE_PORT" --clients "$clients" \
        --value-bytes "$value_bytes" --keys "$KEYS" --seconds "$CELL_SECONDS" --json) \
        || die "understudy-load failed: $report"
    jq -r '"\(.commitsPerSecond|floor) \(.latencyMilliseconds.p50*1000|round/1000) \(.latencyMilliseconds.p99*1000|round/1000)"' <<<"$report"
}

# --- PostgreSQL 15 --------------------------------------------------------------------------------

start_postgres() {
    if [[ ! -x $PG_BIN/pgbench ]]; then
        [[ $(id -u) == 0 ]] || die "PostgreSQL 15 is not installed in $PG_BIN; install it (apt-get install -y postgresql) or set SKIP_POSTGRES=1"
        log "installing PostgreSQL"
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    fi
    PG_PORT=$(free_port)
    mkdir "$WORK/pg" "$WORK/pgsocket"
    [[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg" "$WORK/pgsocket"
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --no-instructions >/dev/null
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w -o "-c listen_addresses=127.0.0.1 \
        -c port=$PG_PORT -c unix_socket_directories=$WORK/pgsocket -c fsync=on -c synchronous_commit=on \
        -c max_connections=100 -c shared_buffers=256MB" start >/dev/null
    PG_STARTED=1
    psql_run -c "CREATE TABLE kv (key text PRIMARY KEY, value bytea)" >/dev/null
}

psql_run() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# The value is random hex, generated once, so TOAST compression cannot shrink it (like the node's).

# Prints "tps p50 p99" for one cell; percentiles come from pgbench's per-transaction log (µs).
postgres_cell() {
    local clients=$1 value_bytes=$2 output logs=$WORK/pglog-$1-$2
    write_upsert_script "$value_bytes" "$WORK/upsert-$value_bytes.sql"
    mkdir "$logs"
    output=$("$PG_BIN/pgbench" -n -M prepared -f "$WORK/upsert-$value_bytes.sql" -D keys="$KEYS" \
        -c "$clients" -j "$clients" -T "$CELL_SECONDS" -l --log-prefix="$logs/tx" \
        -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres 2>&1) || die "pgbench failed: $output"
    local tps
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$output")
    cat "$logs"/tx.* | awk '{print $3}' | sort -n | awk -v tps="$tps" '
        { latency[NR] = $1 }
        END {
            p50 = latency[int(NR * 0.50 + 0.999999)]; p99 = latency[int(NR * 0.99 + 0.999999)]
            printf "%d %.3f %.3f\n", tps, p50 / 1000, p99 / 1000
        }'
    rm -rf "$logs"
}

# --- the table ------------------------------------------------------------------------------------

main() {
    command -v jq >/dev/null || die "jq is required"
    build
    log "scratch directory $WORK ($(df --output=source,fstype "$WORK" | tail -1 | tr -s ' '))"
    start_node
    [[ $SKIP_POSTGRES == 1 ]] || start_postgres
    echo "Commit throughput: $(nproc) cores, $CELL_SECONDS s per cell, $KEYS keys, $(date -u +%Y-%m-%d)"
    echo
    echo "| clients | value bytes | Understudy commits/s | p50 ms | p99 ms | PostgreSQL 15 TPS | p50 ms | p99 ms |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for value_bytes in $VALUE_SIZES; do
        for clients in $CLIENT_COUNTS; do
            local understudy postgres="- - -"
            understudy=$(understudy_cell "$clients" "$value_bytes")
            [[ $SKIP_POSTGRES == 1 ]] || postgres=$(postgres_cell "$clients" "$value_bytes")
            read -r u_rate u_p50 u_p99 <<<"$understudy"
            read -r p_rate p_p50 p_p99 <<<"$postgres"
            echo "| $clients | $value_bytes | $u_rate | $u_p50 | $u_p99 | $p_rate | $p_p50 | $p_p99 |"
        done
    done
}

main "$@"
