#!/usr/bin/env bash
# Commit throughput and latency of an Understudy primary, next to PostgreSQL 15 on the same machine
# doing the same work: C clients, each with one transaction in flight, each transaction one durable
# upsert of a B-byte value to a random key among K.
#
#   Understudy: `understudy-load` (keep-alive HTTP/1.1, PUT /objects/load-N) against `understudy start`.
#   PostgreSQL: `pgbench -M prepared` running INSERT … ON CONFLICT (key) DO UPDATE on kv(key, value),
#               fsync=on, synchronous_commit=on, over TCP on 127.0.0.1 like the node.
#
# With --synchronous, each system runs a primary and one streaming standby, and every cell is
# measured three times in the same run: asynchronous (the standby attached), synchronous at level
# flushed (Understudy `--synchronous-standbys 1 --synchronous-level flushed`; PostgreSQL
# `synchronous_standby_names = '*'`, `synchronous_commit = on`) and at level applied (Understudy
# `--synchronous-level applied`; PostgreSQL `synchronous_commit = remote_apply`). Both switch at run
# time (`understudy synchronous set`, ALTER SYSTEM + pg_reload_conf()), without a restart.
#
# Prints one Markdown table; with --json FILE also writes the cells as
#   {"understudy": {"cells": [{"clients": 1, "value_bytes": 100, "commits_per_s": …, "p50_ms": …,
#    "p99_ms": …}, …]}, "postgres": {"cells": […]}}
# (with --synchronous each cell also has "replication": "asynchronous" | "flushed" | "applied").
# Everything lives in a scratch directory on the project's disk (or /tmp when it is a real disk),
# removed on exit, Ctrl-C included; every server is stopped.
#
# Usage: examples/benchmarks/commit-throughput.sh [--synchronous] [--json FILE]
# Environment (defaults in brackets):
#   CELL_SECONDS [10]      length of each measurement
#   CLIENT_COUNTS ["1 16 64"], VALUE_SIZES ["100 4096"; "100" with --synchronous], KEYS [100000]
#   SKIP_POSTGRES [0]      1: measure Understudy only
#   BUILD_PATH [.build]    SwiftPM scratch path for the release build
#   SKIP_BUILD [0]         1: use the binaries already in BUILD_PATH/release
#   BENCH_DIR              where to create the scratch directory
set -euo pipefail

CELL_SECONDS=${CELL_SECONDS:-10}
CLIENT_COUNTS=${CLIENT_COUNTS:-"1 16 64"}
KEYS=${KEYS:-100000}
SKIP_POSTGRES=${SKIP_POSTGRES:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "commit-throughput: $*" >&2; }
die() { log "$*"; exit 1; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
parse_options "[--synchronous] [--json FILE]" --synchronous SYNCHRONOUS "$@"
if [[ $SYNCHRONOUS == 1 ]]; then VALUE_SIZES=${VALUE_SIZES:-100}; else VALUE_SIZES=${VALUE_SIZES:-"100 4096"}; fi

# --- scratch directory and cleanup -----------------------------------------------------------------

WORK=$(mktemp -d "$(scratch_root)/understudy-commit-bench.XXXXXX")
chmod 755 "$WORK"
pids=()          # Understudy nodes (deploy/lib/nodes.sh appends to it)
PG_CLUSTERS=()   # data directories of running PostgreSQL servers

trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# --- cells as JSON lines, one file per system -------------------------------------------------------

# record_cell SYSTEM CLIENTS VALUE_BYTES REPLICATION "RATE P50 P99": appends one cell (REPLICATION
# empty outside --synchronous); a skipped system ("- - -") records nothing.
record_cell() {
    local system=$1 clients=$2 value_bytes=$3 replication=$4 rate p50 p99
    read -r rate p50 p99 <<<"$5"
    [[ $rate == - ]] && return
    jq -nc --argjson clients "$clients" --argjson value_bytes "$value_bytes" --arg replication "$replication" \
        --argjson rate "$rate" --argjson p50 "$p50" --argjson p99 "$p99" \
        '{clients: $clients, value_bytes: $value_bytes} + (if $replication == "" then {} else {replication: $replication} end)
         + {commits_per_s: $rate, p50_ms: $p50, p99_ms: $p99}' >>"$WORK/cells-$system.jsonl"
}

write_json() {
    [[ -n $JSON_FILE ]] || return 0
    touch "$WORK/cells-understudy.jsonl" "$WORK/cells-postgres.jsonl"
    jq -n --slurpfile understudy "$WORK/cells-understudy.jsonl" --slurpfile postgres "$WORK/cells-postgres.jsonl" \
        '{understudy: {cells: $understudy}, postgres: {cells: $postgres}}' >"$JSON_FILE"
    log "wrote $JSON_FILE"
}

# --- Understudy -----------------------------------------------------------------------------------

# A primary alone, or (--synchronous) a primary and a standby seeded from a snapshot of it.
start_understudy() {
    source "$PROJECT/deploy/lib/nodes.sh"
    "$bin/understudy" init --data "$WORK/primary" --source-id bench-primary >/dev/null
    if [[ $SYNCHRONOUS == 0 ]]; then
        start_node "$WORK/primary.log" start --data "$WORK/primary"
        PRIMARY_URL=$url
        return
    fi
    head -c 32 /dev/urandom >"$WORK/replication.key" && chmod 600 "$WORK/replication.key"
    start_node "$WORK/primary.log" start --data "$WORK/primary" --replication 127.0.0.1:0 --replication-key-file "$WORK/replication.key"
    PRIMARY_URL=$url
    local primary_replication=$replication
    "$bin/understudy" backup snapshot --node "$PRIMARY_URL" --data "$WORK/primary" --to "$WORK/standby" >/dev/null
    start_node "$WORK/standby.log" standby --data "$WORK/standby" --primary "$primary_replication" \
        --replication-key-file "$WORK/replication.key"
}

# understudy_replication asynchronous|flushed|applied: what commits wait for, set at run time;
# returns once the primary reports the standby counted (or no standby required).
understudy_replication() {
    local level=$1 wanted=synchronous
    if [[ $level == asynchronous ]]; then
        "$bin/understudy" synchronous set --standbys 0 --node "$PRIMARY_URL" --data "$WORK/primary" >/dev/null
        return
    fi
    "$bin/understudy" synchronous set --standbys 1 --level "$level" --node "$PRIMARY_URL" --data "$WORK/primary" >/dev/null
    for _ in $(seq 600); do
        [[ $(curl -sf "$PRIMARY_URL/status" | jq -r '.synchronous.state // empty') == "$wanted" ]] && return
        sleep 0.05
    done
    die "the primary never counted its standby as synchronous at level $level"
}

# Prints "commits/s p50 p99" for one cell.
understudy_cell() {
    local clients=$1 value_bytes=$2 report
    report=$("$bin/understudy-load" --node "$PRIMARY_URL" --clients "$clients" \
        --value-bytes "$value_bytes" --keys "$KEYS" --seconds "$CELL_SECONDS" --json) \
        || die "understudy-load failed: $report"
    jq -r '"\(.commitsPerSecond|floor) \(.latencyMilliseconds.p50*1000|round/1000) \(.latencyMilliseconds.p99*1000|round/1000)"' <<<"$report"
}

# --- PostgreSQL 15 --------------------------------------------------------------------------------



# A primary alone, or (--synchronous) a primary and a streaming standby from pg_basebackup.
start_postgres() {
    if [[ ! -x $PG_BIN/pgbench ]]; then
        [[ $(id -u) == 0 ]] || die "PostgreSQL 15 is not installed in $PG_BIN; install it (apt-get install -y postgresql) or set SKIP_POSTGRES=1"
        log "installing PostgreSQL"
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    fi
    PG_PORT=$(free_port)
    mkdir "$WORK/pg" "$WORK/pgsocket"
    [[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg" "$WORK/pgsocket" "$WORK"
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --no-instructions >/dev/null
    cat >>"$WORK/pg/postgresql.conf" <<CONF
fsync = on
synchronous_commit = on
max_connections = 100
shared_buffers = 256MB
wal_level = replica
max_wal_senders = 4
hot_standby = on
CONF
    pg_start "$WORK/pg" "$PG_PORT"
    psql_at "$PG_PORT" -c "CREATE TABLE kv (key text PRIMARY KEY, value bytea)"
    [[ $SYNCHRONOUS == 1 ]] || return 0
    PG_STANDBY_PORT=$(free_port)
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$WORK/pg-standby" -R -X stream
    pg_start "$WORK/pg-standby" "$PG_STANDBY_PORT"
}

# postgres_replication asynchronous|flushed|applied, like understudy_replication.
postgres_replication() {
    local names="*" commit=on wanted=sync
    case $1 in
        asynchronous) names="" wanted=async ;;
        applied) commit=remote_apply ;;
    esac
    psql_at "$PG_PORT" -c "ALTER SYSTEM SET synchronous_standby_names = '$names'" \
        -c "ALTER SYSTEM SET synchronous_commit = '$commit'" -c "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 600); do
        [[ $(psql_at "$PG_PORT" -c "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'") == "$wanted" ]] && return
        sleep 0.05
    done
    die "the PostgreSQL standby never became $wanted"
}

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

# measure_row CLIENTS VALUE_BYTES REPLICATION: one row of the table, both systems, cells recorded.
measure_row() {
    local clients=$1 value_bytes=$2 replication=$3 understudy postgres="- - -"
    understudy=$(understudy_cell "$clients" "$value_bytes")
    [[ $SKIP_POSTGRES == 1 ]] || postgres=$(postgres_cell "$clients" "$value_bytes")
    record_cell understudy "$clients" "$value_bytes" "$replication" "$understudy"
    record_cell postgres "$clients" "$value_bytes" "$replication" "$postgres"
    read -r u_rate u_p50 u_p99 <<<"$understudy"
    read -r p_rate p_p50 p_p99 <<<"$postgres"
    echo "| ${replication:+$replication | }$clients | $value_bytes | $u_rate | $u_p50 | $u_p99 | $p_rate | $p_p50 | $p_p99 |"
}

# After a --synchronous run: each synchronous cell's commits/s as a share of the asynchronous cell's.
print_costs() {
    echo
    echo "| system | level | clients | value bytes | commits/s vs asynchronous |"
    echo "|---|---|---:|---:|---:|"
    for system in understudy postgres; do
        [[ -s $WORK/cells-$system.jsonl ]] || continue
        jq -rs --arg system "$system" '
            (map(select(.replication == "asynchronous")) | INDEX("\(.clients) \(.value_bytes)")) as $async
            | .[] | select(.replication != "asynchronous")
            | "| \($system) | \(.replication) | \(.clients) | \(.value_bytes) | \(
                ($async["\(.clients) \(.value_bytes)"].commits_per_s) as $base
                | if $base > 0 then "\(.commits_per_s * 1000 / $base | round / 10)%" else "-" end) |"' \
            "$WORK/cells-$system.jsonl"
    done
}

main() {
    command -v jq >/dev/null || die "jq is required"
    command -v curl >/dev/null || die "curl is required"
    build
    log "scratch directory $WORK ($(df --output=source,fstype "$WORK" | tail -1 | tr -s ' '))"
    start_understudy
    [[ $SKIP_POSTGRES == 1 ]] || start_postgres
    local replications=("") heading="" rule=""
    if [[ $SYNCHRONOUS == 1 ]]; then
        replications=(asynchronous flushed applied) heading="replication | " rule="---|"
    fi
    echo "Commit throughput: $(nproc) cores, $CELL_SECONDS s per cell, $KEYS keys, $(date -u +%Y-%m-%d)" \
        "$([[ $SYNCHRONOUS == 1 ]] && echo "(primary + one standby each)")"
    echo
    echo "| ${heading}clients | value bytes | Understudy commits/s | p50 ms | p99 ms | PostgreSQL 15 TPS | p50 ms | p99 ms |"
    echo "|${rule}---:|---:|---:|---:|---:|---:|---:|---:|"
    for replication in "${replications[@]}"; do
        if [[ -n $replication ]]; then
            understudy_replication "$replication"
            [[ $SKIP_POSTGRES == 1 ]] || postgres_replication "$replication"
        fi
        for value_bytes in $VALUE_SIZES; do
            for clients in $CLIENT_COUNTS; do measure_row "$clients" "$value_bytes" "$replication"; done
        done
    done
    [[ $SYNCHRONOUS == 0 ]] || print_costs
    write_json
}

main "$@"
