#!/usr/bin/env bash
# A hot standby on loopback, Understudy next to PostgreSQL 15 streaming replication doing the same
# work (durable upserts of a V-byte value to a random key among K, C clients):
#   (a) catch-up: a standby copied from the primary stays stopped while the primary takes N commits,
#       then starts; timed from its start until it has applied the primary's last position. Timed
#       CATCHUP_RUNS times from copies of the same stopped standby (the copies first, each stopped
#       after its run; the original last, which goes on to (b) and (c)); the figure is the median;
#   (b) each primary's maximum commit rate: the median of three closed-loop runs with the standby
#       attached; then replay lag under steady open-loop load at the SAME offered rate for both
#       systems, 50% and 90% of the lower of the two maxima, so that the p99s compare like for like;
#       sampled on the standby every LAG_INTERVAL seconds in the same way for both: 0 when
#       everything it received is applied, else the age of the last applied commit (the standby's
#       clock when it answered − its commit time, both taken inside the server: GET /status's
#       `time`, PostgreSQL's clock_timestamp(); one machine, one clock);
#   (c) promote: the primary is killed (kill -9 / pg_ctl -m immediate), then from the promote command
#       (`understudy promote`, `SELECT pg_promote()`, both waiting for the promotion) to the first
#       write the promoted node accepts; for Understudy also the time inside the node (the promote's
#       own phases, without the CLI process's start);
#   (d) base copy: a new primary holding BASECOPY_COMMITS upserts of 1,000-byte values, then a new
#       standby started on an empty directory (`understudy standby`, base copy then streaming) timed
#       like a catch-up until it has applied the primary's last record, against `pg_basebackup -X
#       stream` of the same number of 1,000-byte rows, each BASECOPY_RUNS times (the median); MB/s of
#       object data (objects × 1,000 B). PostgreSQL's primary takes a CHECKPOINT before its copies
#       are timed, and so does ours (`understudy checkpoint`) for the like-for-like figure; ours is
#       also timed once before it, as the load left the primary (the copy then carries the tranlog
#       since its last checkpoint, which the standby replays). It starts once every earlier part's
#       node and server is stopped. Every timed run of (a) and (d) starts after a `sync`.
#
#   Understudy: `understudy start --replication` + `understudy standby` (deploy/lib/nodes.sh), a
#               snapshot (`backup snapshot`) as the standby's copy, load from `understudy-load`.
#   PostgreSQL: initdb with wal_level=replica, fsync=on, synchronous_commit=on (asynchronous standby);
#               `pg_basebackup -R -C -S` (a slot keeps the WAL the stopped standby needs); pgbench -M
#               prepared running INSERT … ON CONFLICT (key) DO UPDATE; -R for the open-loop rates.
#
# Opt-in (never run by `swift test`). Prints a Markdown table with the load average before and after;
# with --json FILE also writes, for "understudy" and "postgres", the fields catchup_records_per_s
# (from the median run), catchup_seconds_runs (every run, in order),
# max_commits_per_s, lag_p99_ms_at_50, lag_p99_ms_at_90, lag_nonzero_share_at_50 and _at_90 (the share
# of samples that found flushed records not yet applied), achieved_per_s_at_50, achieved_per_s_at_90,
# promote_to_first_write_ms, promote_in_node_ms, basecopy_mb_per_s (after a checkpoint, from the
# median run), basecopy_seconds_runs and basecopy_mb_per_s_as_loaded (null where not measured:
# PostgreSQL's promote_in_node_ms and basecopy_mb_per_s_as_loaded, and anything of a system skipped).
# Everything runs in a scratch directory removed on exit, Ctrl-C included; every process is stopped.
#
# Usage: examples/benchmarks/standby-replication.sh [--quick] [--json FILE]
#   (--quick: 100 000 behind, short cells, a 60 000-commit base copy: below the 250 MB a real figure needs)
# Environment (defaults in brackets):
#   BEHIND [1000000]  commits the stopped standby misses      CLIENTS [32]  VALUE_BYTES [100]  KEYS [100000]
#   CATCHUP_RUNS [3]  catch-ups timed per system (median)   BASECOPY_RUNS [3]  base copies timed per system (median)
#   MAX_SECONDS [10]  each closed-loop run finding the max    LAG_SECONDS [20]  each open-loop lag cell
#   LAG_INTERVAL [0.02]  seconds between lag samples (1,000 per 20 s cell: the p99 is the 10th worst)
#   BASECOPY_COMMITS [600000]  upserts of 1,000-byte values to random keys among 500,000 (about 350 MB)
#   SKIP_POSTGRES [0]  BUILD_PATH [.build]  SKIP_BUILD [0]  BENCH_DIR (where the scratch directory goes)
#   ONLY_BASECOPY [0]  1: run (d) alone and print its rows (comparing base-copy changes without the rest)
#   ONLY_CATCHUP [0]  1: run (a) alone and print its rows
#   KEEP_WORK [0]  1: keep the scratch directory (nodes' logs and data) after the run
set -euo pipefail

CLIENTS=${CLIENTS:-32}
VALUE_BYTES=${VALUE_BYTES:-100}
KEYS=${KEYS:-100000}
SKIP_POSTGRES=${SKIP_POSTGRES:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_PATH=${BUILD_PATH:-$PROJECT/.build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "standby-replication: $*" >&2; }
die() { log "$*"; exit 1; }
source "$PROJECT/examples/benchmarks/lib/common.sh"
parse_options "[--quick] [--json FILE]" --quick QUICK "$@"
[[ $QUICK == 1 ]] && : "${BEHIND:=100000}" "${MAX_SECONDS:=5}" "${LAG_SECONDS:=8}" "${BASECOPY_COMMITS:=60000}" "${CATCHUP_RUNS:=1}" "${BASECOPY_RUNS:=1}"
BEHIND=${BEHIND:-1000000}
CATCHUP_RUNS=${CATCHUP_RUNS:-3}
BASECOPY_RUNS=${BASECOPY_RUNS:-3}
BASECOPY_COMMITS=${BASECOPY_COMMITS:-600000}
BASECOPY_KEYS=500000
MAX_SECONDS=${MAX_SECONDS:-10}
LAG_SECONDS=${LAG_SECONDS:-20}
LAG_INTERVAL=${LAG_INTERVAL:-0.02}

# --- scratch directory and cleanup -----------------------------------------------------------------


WORK=$(mktemp -d "$(scratch_root)/understudy-standby-bench.XXXXXX")
chmod 755 "$WORK"
pids=()          # Understudy nodes and background clients (deploy/lib/nodes.sh appends to it)
PG_CLUSTERS=()   # data directories of running PostgreSQL servers

trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# PostgreSQL refuses to run as root: run its servers and tools as the postgres user then.


now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
# ratio A B [DIGITS]: A / B.
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.{sys.argv[3]}f}')" "$1" "$2" "${3:-0}"; }

# Replay-lag samples: lib/lag_sampler.py (`understudy URL SECONDS INTERVAL` polls a standby's GET
# /status every INTERVAL seconds and prints one lag per line; `summary` reads such lines, or psql's
# output of the query in postgres_lag, and prints "p50_ms p99_ms samples nonzero_share").
SAMPLER=$PROJECT/examples/benchmarks/lib/lag_sampler.py
WAITER=$PROJECT/examples/benchmarks/lib/wait_applied.py

# --- Understudy -----------------------------------------------------------------------------------


applied_seqno() { curl -sf "$1/status" | jq -r '.repository.applied.seqno'; }
# tranlog_bytes DATA URL: the log up to the node's applied event id: the files before its file, whole,
# and its offset in that one (the newest file's size counts the zeros of a preallocated file).
tranlog_bytes() {
    local event
    event=$(curl -sf "$2/status" | jq -r '.repository.applied.eventID')
    find "$1/tranlogs" -name 'tranlog*.dbf' -printf '%f %s\n' | awk -v file="${event%%:*}" -v offset="${event##*:}" '
        function id(name) { sub(/^tranlog/, "", name); sub(/\.dbf$/, "", name); return name + 0 }
        id($1) < id(file) { total += $2 }
        END { print total + offset }'
}

# Waits until the node at URL has applied TARGET (lib/wait_applied.py: one poller, every 20 ms);
# fails after 30 minutes.
wait_for_applied() {
    python3 "$WAITER" understudy "$1" "$2" || die "$1 never applied seqno $2"
}

load() { "$bin/understudy-load" --node "$1" --clients "$CLIENTS" --value-bytes "$VALUE_BYTES" --keys "$KEYS" --json "${@:2}"; }

# median NUMBER…: the median (of an even count, the mean of the middle two).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median_of_three COMMAND…: runs COMMAND (which prints a number) three times; prints the median.
median_of_three() {
    local runs=()
    for _ in 1 2 3; do runs+=("$("$@")"); done
    median "${runs[@]}"
}

# timed_standbys WHAT RUNS LAUNCH_ONE POLL_ONE STOP_ONE ORIGINAL TARGET: a standby timed RUNS times
# from its start until it has applied TARGET (a catch-up; a base copy, from an empty ORIGINAL): on a
# copy of ORIGINAL (then `STOP_ONE`, and the copy removed), and last on ORIGINAL itself, which keeps
# running. A run's poller (lib/wait_applied.py --armed, with the arguments `POLL_ONE DIRECTORY
# TARGET` prints) starts first; once it is armed the clock starts and `LAUNCH_ONE DIRECTORY` starts
# the standby without waiting for it; the clock stops when the poller has seen TARGET applied. So a
# run counts the standby's start and its work, and neither the poller's start nor a launcher's wait
# for readiness. Sets TIMED_SECONDS (the median) and TIMED_RUNS_SECONDS.
timed_standbys() {
    local what=$1 count=$2 launch_one=$3 poll_one=$4 stop_one=$5 original=$6 target=$7 copy="$6-copy" runs=() started finished run
    for ((run = 1; run <= count; run++)); do
        local directory=$original clock poller
        if ((run < count)); then directory=$copy; cp -a "$original" "$copy"; fi
        # What the load or the copy left to write back reaches the disk before the clock starts:
        # the kernel's writeback would otherwise share the run's two cores (the last run, with no
        # copy just before it, was the fastest of three for both systems in two whole runs of three).
        sync
        rm -f "$WORK/clock" && mkfifo "$WORK/clock"
        # shellcheck disable=SC2046 # the arguments are words without spaces (paths in $WORK, numbers)
        python3 "$WAITER" --armed $("$poll_one" "$directory" "$target") >"$WORK/clock" &
        poller=$!
        exec {clock}<"$WORK/clock"
        read -r _ <&"$clock" || die "the $what poller did not start"
        started=$(now)
        "$launch_one" "$directory"
        read -r _ <&"$clock" || die "$what $run never reached $target"
        finished=$(now)
        exec {clock}<&-
        wait "$poller"
        runs+=("$(elapsed "$started" "$finished")")
        log "  $what $run of $count: ${runs[-1]} s"
        if ((run < count)); then "$stop_one"; rm -rf "$copy"; fi
    done
    TIMED_RUNS_SECONDS="${runs[*]}"
    TIMED_SECONDS=$(median "${runs[@]}")
}

# The node helpers and the replication key every Understudy part uses.
understudy_setup() {
    source "$PROJECT/deploy/lib/nodes.sh"
    head -c 32 /dev/urandom >"$WORK/replication.key" && chmod 600 "$WORK/replication.key"
}

understudy_setup_and_catchup() {
    understudy_setup
    "$bin/understudy" init --data "$WORK/primary" --source-id bench-primary >/dev/null
    start_node "$WORK/primary.log" start --data "$WORK/primary" --replication 127.0.0.1:0 --replication-key-file "$WORK/replication.key"
    U_PRIMARY=$url U_PRIMARY_PID=${pids[-1]}
    local primary_replication=$replication
    "$bin/understudy" backup snapshot --node "$U_PRIMARY" --data "$WORK/primary" --to "$WORK/standby" >/dev/null

    log "Understudy (a): $BEHIND commits while the standby is stopped"
    local bytes_before start target
    bytes_before=$(tranlog_bytes "$WORK/primary" "$U_PRIMARY")
    start=$(applied_seqno "$U_PRIMARY")
    load "$U_PRIMARY" --commits "$BEHIND" >/dev/null
    target=$(applied_seqno "$U_PRIMARY")
    local bytes=$(( $(tranlog_bytes "$WORK/primary" "$U_PRIMARY") - bytes_before ))
    U_STANDBY_OF=$primary_replication
    timed_standbys catch-up "$CATCHUP_RUNS" understudy_standby_launch understudy_standby_poll stop_last_node "$WORK/standby" "$target"
    read_node_addresses "$WORK/standby.log.out"
    U_STANDBY=$url
    U_CATCHUP_SECONDS=$TIMED_SECONDS U_CATCHUP_RUNS=$TIMED_RUNS_SECONDS
    U_CATCHUP_RECORDS=$(ratio $((target - start)) "$U_CATCHUP_SECONDS")
    U_CATCHUP_MB=$(ratio "$bytes" "$(python3 -c "print($U_CATCHUP_SECONDS * 1e6)")" 1)

    [[ ${ONLY_CATCHUP:-0} == 1 ]] && return
    log "Understudy (b): maximum commit rate (median of three)"
    U_MAX=$(median_of_three understudy_max_once)
}

# understudy_standby_launch DIRECTORY: a standby of U_STANDBY_OF (a primary's replication address) on
# DIRECTORY, its stdout in DIRECTORY.log.out; on an empty DIRECTORY it starts with a base copy.
understudy_standby_launch() {
    launch_node "$1.log" standby --data "$1" --primary "$U_STANDBY_OF" --replication-key-file "$WORK/replication.key"
}

# understudy_standby_poll DIRECTORY TARGET: the poller's arguments for that standby (its URL from
# its ready line). An earlier run's stdout for the same directory is removed first: the poller
# must not poll the URL of a node already stopped.
understudy_standby_poll() {
    rm -f "$1.log.out"
    echo understudy "@$1.log.out" "$2"
}

understudy_max_once() { load "$U_PRIMARY" --seconds "$MAX_SECONDS" | jq -r '.commitsPerSecond | floor'; }

# understudy_lag PERCENT RATE: one open-loop cell at RATE commits/s, sets U_LAG_PERCENT.
understudy_lag() {
    local percent=$1 rate=$2 report lags
    load "$U_PRIMARY" --rate "$rate" --seconds "$LAG_SECONDS" >"$WORK/load-$percent.json" &
    local load_pid=$!
    pids+=("$load_pid")
    lags=$(python3 "$SAMPLER" understudy "$U_STANDBY" "$LAG_SECONDS" "$LAG_INTERVAL" | python3 "$SAMPLER" summary)
    wait "$load_pid"
    report=$(jq -r '.commitsPerSecond | floor' "$WORK/load-$percent.json")
    printf -v "U_LAG_$percent" '%s' "$lags achieved:$report"
}

understudy_promote() {
    log "Understudy (c): kill -9 the primary, promote the standby, first write"
    local started finished
    wait_for_applied "$U_STANDBY" "$(applied_seqno "$U_PRIMARY")"
    kill -KILL "$U_PRIMARY_PID"
    wait "$U_PRIMARY_PID" 2>/dev/null || true
    started=$(now)
    "$bin/understudy" promote --node "$U_STANDBY" --data "$WORK/standby" --json >"$WORK/promote.json"
    until curl -sf -X PUT --data-binary "after promotion" "$U_STANDBY/objects/promoted" >/dev/null; do sleep 0.001; done
    finished=$(now)
    U_PROMOTE_MS=$(python3 -c "print(round(($finished - $started) * 1000))")
    U_PROMOTE_IN_NODE_MS=$(jq -r '.milliseconds | (.waitForApply // 0) + .stopReceiver + .applyFlushed + .commitRestore + (.stopStandby // 0) | . * 10 | round / 10' "$WORK/promote.json")
    U_PROMOTE_PHASES=$(jq -r '.milliseconds | "wait for apply \(.waitForApply // 0 | round), stop receiver \(.stopReceiver|round), apply \(.applyFlushed|round), commitRestore \(.commitRestore|round)\(if .stopStandby then ", stop standby \(.stopStandby|round)" else "" end) ms"' "$WORK/promote.json")
}

# A new primary with BASECOPY_COMMITS upserts of 1,000-byte values; a new standby on an empty
# directory, timed from its start until it has applied the primary's last record. Timed twice from
# the same primary: first as the load left it (its last checkpoint wherever its own schedule put it,
# so the copy carries the tranlog since then, which the standby replays), then after a checkpoint
# taken outside the timing, as PostgreSQL's side is (its CHECKPOINT before pg_basebackup): that
# second figure is the like-for-like one.
understudy_basecopy() {
    log "Understudy (d): base copy of $BASECOPY_COMMITS upserts of 1,000-byte values"
    "$bin/understudy" init --data "$WORK/bc-primary" --source-id bench-basecopy >/dev/null
    start_node "$WORK/bc-primary.log" start --data "$WORK/bc-primary" --replication 127.0.0.1:0 \
        --replication-key-file "$WORK/replication.key"
    local primary=$url primary_replication=$replication target
    "$bin/understudy-load" --node "$primary" --clients "$CLIENTS" --value-bytes 1000 --keys "$BASECOPY_KEYS" \
        --commits "$BASECOPY_COMMITS" --json >/dev/null
    target=$(applied_seqno "$primary")
    BASECOPY_OBJECTS=$(curl -sf "$primary/status" | jq -r '.repository.objectCount')
    U_STANDBY_OF=$primary_replication
    mkdir "$WORK/bc-standby-as-loaded" "$WORK/bc-standby"
    timed_standbys "base copy as loaded" 1 understudy_standby_launch understudy_standby_poll stop_last_node \
        "$WORK/bc-standby-as-loaded" "$target"
    stop_last_node
    U_BASECOPY_AS_LOADED_SECONDS=$TIMED_SECONDS
    U_BASECOPY_AS_LOADED_MB=$(object_mb_per_s "$U_BASECOPY_AS_LOADED_SECONDS")
    "$bin/understudy" checkpoint --data "$WORK/bc-primary" --node "$primary" >/dev/null
    target=$(applied_seqno "$primary")
    timed_standbys "base copy" "$BASECOPY_RUNS" understudy_standby_launch understudy_standby_poll stop_last_node \
        "$WORK/bc-standby" "$target"
    stop_last_node
    U_BASECOPY_SECONDS=$TIMED_SECONDS U_BASECOPY_RUNS=$TIMED_RUNS_SECONDS
    U_BASECOPY_MB=$(object_mb_per_s "$U_BASECOPY_SECONDS")
}


object_mb_per_s() { ratio "$BASECOPY_OBJECTS" "$(python3 -c "print($1 * 1e3)")" 1; }

# --- PostgreSQL 15 --------------------------------------------------------------------------------




pgbench_run() {
    "$PG_BIN/pgbench" -n -M prepared -f "$WORK/upsert.sql" -D keys="$KEYS" -c "$CLIENTS" -j "$CLIENTS" \
        -h 127.0.0.1 -p "$PG_PRIMARY" -U postgres "$@" postgres 2>&1
}

pg_wait_for_replay() {
    python3 "$WAITER" postgres "$PG_BIN/psql" "$PG_STANDBY" "$1" || die "the PostgreSQL standby never replayed $1"
}

postgres_setup_and_catchup() {
    [[ -x $PG_BIN/pgbench ]] || die "PostgreSQL 15 is not installed in $PG_BIN (apt-get install -y postgresql) or set SKIP_POSTGRES=1"
    PG_PRIMARY=$(free_port) PG_STANDBY=$(free_port)
    mkdir "$WORK/pg-primary" "$WORK/pgsocket"
    [[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg-primary" "$WORK/pgsocket" "$WORK"
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg-primary" -U postgres --auth=trust --no-instructions >/dev/null
    cat >>"$WORK/pg-primary/postgresql.conf" <<CONF
wal_level = replica
fsync = on
synchronous_commit = on
max_wal_senders = 4
max_replication_slots = 4
max_connections = 100
shared_buffers = 256MB
hot_standby = on
CONF
    pg_start "$WORK/pg-primary" "$PG_PRIMARY"
    psql_at "$PG_PRIMARY" -c "CREATE TABLE kv (key text PRIMARY KEY, value bytea)"
    write_upsert_script "$VALUE_BYTES" "$WORK/upsert.sql"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY" -U postgres -D "$WORK/pg-standby" -R -X stream -C -S bench

    log "PostgreSQL (a): $BEHIND transactions while the standby is stopped"
    local before target started finished
    before=$(psql_at "$PG_PRIMARY" -c "SELECT pg_current_wal_lsn()")
    pgbench_run -t $((BEHIND / CLIENTS)) >/dev/null
    target=$(psql_at "$PG_PRIMARY" -c "SELECT pg_current_wal_lsn()")
    local bytes
    bytes=$(psql_at "$PG_PRIMARY" -c "SELECT pg_wal_lsn_diff('$target', '$before')::bigint")
    timed_standbys catch-up "$CATCHUP_RUNS" postgres_catchup_launch postgres_catchup_poll pg_stop_last "$WORK/pg-standby" "$target"
    P_CATCHUP_SECONDS=$TIMED_SECONDS P_CATCHUP_RUNS=$TIMED_RUNS_SECONDS
    P_CATCHUP_RECORDS=$(ratio $(((BEHIND / CLIENTS) * CLIENTS)) "$P_CATCHUP_SECONDS")
    P_CATCHUP_MB=$(ratio "$bytes" "$(python3 -c "print($P_CATCHUP_SECONDS * 1e6)")" 1)

    [[ ${ONLY_CATCHUP:-0} == 1 ]] && return
    log "PostgreSQL (b): maximum TPS (median of three)"
    P_MAX=$(median_of_three postgres_max_once)
}

# postgres_catchup_launch DIRECTORY: the standby on DIRECTORY. A copy streams without the slot,
# which keeps the WAL for the original's run.
postgres_catchup_launch() {
    [[ $1 == "$WORK/pg-standby" ]] || sed -i '/^primary_slot_name/d' "$1/postgresql.auto.conf"
    pg_launch "$1" "$PG_STANDBY"
}

# postgres_catchup_poll DIRECTORY TARGET: the poller's arguments for that standby.
postgres_catchup_poll() { echo postgres "$PG_BIN/psql" "$PG_STANDBY" "$2"; }

postgres_max_once() { pgbench_run -T "$MAX_SECONDS" | sed -n 's/^tps = \([0-9]*\).*/\1/p'; }

# postgres_lag PERCENT RATE: one open-loop cell at RATE transactions/s, sets P_LAG_PERCENT.
postgres_lag() {
    local percent=$1 rate=$2 lags output
    local query="SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END"
    pgbench_run -R "$rate" -T "$LAG_SECONDS" >"$WORK/pgbench-$percent.out" &
    local bench_pid=$!
    pids+=("$bench_pid")
    # One session re-running the query every LAG_INTERVAL seconds for the length of the cell.
    printf '%s;\n\\watch %s\n' "$query" "$LAG_INTERVAL" | timeout "$LAG_SECONDS" "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_STANDBY" \
        -U postgres >"$WORK/pglag-$percent" 2>/dev/null || true
    wait "$bench_pid"
    lags=$(python3 "$SAMPLER" summary <"$WORK/pglag-$percent")
    output=$(sed -n 's/^tps = \([0-9]*\).*/\1/p' "$WORK/pgbench-$percent.out")
    printf -v "P_LAG_$percent" '%s' "$lags achieved:$output"
}

postgres_promote() {
    local started finished
    log "PostgreSQL (c): stop the primary (immediate), pg_promote(), first write"
    pg_wait_for_replay "$(psql_at "$PG_PRIMARY" -c "SELECT pg_current_wal_lsn()")"
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg-primary" -m immediate -w stop >/dev/null
    started=$(now)
    psql_at "$PG_STANDBY" -c "SELECT pg_promote()" >/dev/null
    until psql_at "$PG_STANDBY" -c "INSERT INTO kv VALUES ('promoted', 'x'::bytea) ON CONFLICT (key) DO NOTHING" >/dev/null 2>&1; do
        sleep 0.001
    done
    finished=$(now)
    P_PROMOTE_MS=$(python3 -c "print(round(($finished - $started) * 1000))")
}

# pg_basebackup of a new cluster holding BASECOPY_OBJECTS rows of 1,000-byte values (as many as the
# Understudy primary held objects), timed.
postgres_basebackup() {
    log "PostgreSQL (d): pg_basebackup of $BASECOPY_OBJECTS rows of 1,000-byte values"
    local port started finished
    port=$(free_port)
    # The socket directory exists already unless this is the only part run (ONLY_BASECOPY).
    mkdir -p "$WORK/pg-bc" "$WORK/pgsocket"
    [[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg-bc" "$WORK/pgsocket" "$WORK"
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg-bc" -U postgres --auth=trust --no-instructions >/dev/null
    printf 'wal_level = replica\nmax_wal_senders = 4\nshared_buffers = 256MB\n' >>"$WORK/pg-bc/postgresql.conf"
    pg_start "$WORK/pg-bc" "$port"
    psql_at "$port" -c "CREATE TABLE kv (key text PRIMARY KEY, value bytea)" \
        -c "INSERT INTO kv SELECT 'load-' || i, substring(decode(repeat(md5(i::text) || md5((i + 1)::text), 32), 'hex') FROM 1 FOR 1000)
            FROM generate_series(1, $BASECOPY_OBJECTS) AS i" -c "CHECKPOINT" >/dev/null
    local runs=() run
    for ((run = 1; run <= BASECOPY_RUNS; run++)); do
        sync  # as before each of ours (timed_standbys)
        started=$(now)
        as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$WORK/pg-bc-copy" -X stream
        finished=$(now)
        runs+=("$(elapsed "$started" "$finished")")
        log "  base copy $run of $BASECOPY_RUNS: ${runs[-1]} s"
        rm -rf "$WORK/pg-bc-copy"
    done
    P_BASECOPY_RUNS="${runs[*]}" P_BASECOPY_SECONDS=$(median "${runs[@]}")
    P_BASECOPY_MB=$(object_mb_per_s "$P_BASECOPY_SECONDS")
}

# --- the table ------------------------------------------------------------------------------------

# json_number VALUE: VALUE as a JSON number, or null when it was not measured ("-").
json_number() { [[ -z $1 || $1 == - ]] && echo null || echo "$1"; }

# json_runs "S1 S2 …": the runs' seconds as a JSON array, or null when not measured ("-").
# shellcheck disable=SC2086 # the seconds are split on purpose
json_runs() { if [[ -z $1 || $1 == - ]]; then echo null; else printf '%s\n' $1 | jq -s -c .; fi; }

# system_json CATCHUP MAX LAG_50 LAG_90 PROMOTE_MS IN_NODE_MS BASECOPY_MB CATCHUP_RUNS BASECOPY_AS_LOADED_MB BASECOPY_RUNS:
# one system's fields (lag cells as "p50 p99 n nonzero_share achieved:R"; runs' seconds space-separated).
system_json() {
    local catchup=$1 max=$2 lag50=$3 lag90=$4 promote=$5 in_node=$6 basecopy=$7 runs=$8 as_loaded=$9 basecopy_runs=${10}
    local p99_50 p99_90 share_50 share_90 achieved_50 achieved_90
    read -r _ p99_50 _ share_50 achieved_50 <<<"$lag50"
    read -r _ p99_90 _ share_90 achieved_90 <<<"$lag90"
    jq -n --argjson catchup "$(json_number "$catchup")" --argjson max "$(json_number "$max")" \
        --argjson p99_50 "$(json_number "$p99_50")" --argjson p99_90 "$(json_number "$p99_90")" \
        --argjson achieved_50 "$(json_number "${achieved_50#achieved:}")" --argjson achieved_90 "$(json_number "${achieved_90#achieved:}")" \
        --argjson promote "$(json_number "$promote")" --argjson in_node "$(json_number "$in_node")" \
        --argjson basecopy "$(json_number "$basecopy")" --argjson as_loaded "$(json_number "$as_loaded")" \
        --argjson share_50 "$(json_number "$share_50")" --argjson share_90 "$(json_number "$share_90")" \
        --argjson runs "$(json_runs "$runs")" --argjson basecopy_runs "$(json_runs "$basecopy_runs")" \
        '{catchup_records_per_s: $catchup, catchup_seconds_runs: $runs, max_commits_per_s: $max, lag_p99_ms_at_50: $p99_50, lag_p99_ms_at_90: $p99_90,
          lag_nonzero_share_at_50: $share_50, lag_nonzero_share_at_90: $share_90, achieved_per_s_at_50: $achieved_50,
          achieved_per_s_at_90: $achieved_90, promote_to_first_write_ms: $promote,
          promote_in_node_ms: $in_node, basecopy_mb_per_s: $basecopy, basecopy_seconds_runs: $basecopy_runs,
          basecopy_mb_per_s_as_loaded: $as_loaded}'
}

write_json() {
    [[ -n $JSON_FILE ]] || return 0
    jq -n --argjson understudy "$(system_json "$U_CATCHUP_RECORDS" "$U_MAX" "$U_LAG_50" "$U_LAG_90" "$U_PROMOTE_MS" \
            "$U_PROMOTE_IN_NODE_MS" "$U_BASECOPY_MB" "$U_CATCHUP_RUNS" "$U_BASECOPY_AS_LOADED_MB" "$U_BASECOPY_RUNS")" \
        --argjson postgres "$(system_json "$P_CATCHUP_RECORDS" "$P_MAX" "$P_LAG_50" "$P_LAG_90" "$P_PROMOTE_MS" - "$P_BASECOPY_MB" \
            "$P_CATCHUP_RUNS" - "$P_BASECOPY_RUNS")" \
        '{understudy: $understudy, postgres: $postgres}' >"$JSON_FILE"
    log "wrote $JSON_FILE"
}

lag_cell() {  # "p50 p99 n share achieved:R" -> "p50 / p99 ms (n samples, share nonzero, at R/s)"
    read -r p50 p99 n share achieved <<<"$1"
    echo "$p50 / $p99 ms ($n samples, $share nonzero, at ${achieved#achieved:}/s)"
}

catchup_rows() {
    echo "| (a) catch-up from $BEHIND behind: seconds, median of $CATCHUP_RUNS ($U_CATCHUP_RUNS / $P_CATCHUP_RUNS) | $U_CATCHUP_SECONDS | $P_CATCHUP_SECONDS |"
    echo "| (a) catch-up records (transactions)/s | $U_CATCHUP_RECORDS | $P_CATCHUP_RECORDS |"
}

basecopy_rows() {
    echo "| (d) base copy of $BASECOPY_OBJECTS × 1,000 B objects after a checkpoint: seconds, median of $BASECOPY_RUNS ($U_BASECOPY_RUNS / $P_BASECOPY_RUNS) | $U_BASECOPY_SECONDS | $P_BASECOPY_SECONDS |"
    echo "| (d) base copy MB/s of object data after a checkpoint | $U_BASECOPY_MB | $P_BASECOPY_MB |"
    echo "| (d) base copy as the load left the primary: seconds / MB/s | $U_BASECOPY_AS_LOADED_SECONDS / $U_BASECOPY_AS_LOADED_MB | - |"
}

main() {
    command -v jq >/dev/null || die "jq is required"
    command -v curl >/dev/null || die "curl is required"
    build
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    log "scratch directory $WORK ($(df --output=source,fstype "$WORK" | tail -1 | tr -s ' ')), load average $load_before"
    P_CATCHUP_SECONDS=- P_CATCHUP_RUNS=- P_CATCHUP_RECORDS=- P_CATCHUP_MB=- P_MAX=- P_LAG_50="- - - achieved:-" P_LAG_90="- - - achieved:-" P_PROMOTE_MS=-
    P_BASECOPY_SECONDS=- P_BASECOPY_MB=- P_BASECOPY_RUNS=-
    if [[ ${ONLY_BASECOPY:-0} == 1 ]]; then
        understudy_setup
        understudy_basecopy
        [[ $SKIP_POSTGRES == 1 ]] || postgres_basebackup
        basecopy_rows
        return
    fi
    understudy_setup_and_catchup
    [[ $SKIP_POSTGRES == 1 ]] || postgres_setup_and_catchup
    if [[ ${ONLY_CATCHUP:-0} == 1 ]]; then
        catchup_rows
        return
    fi
    # Both systems' lag cells at the same offered rates: 50% and 90% of the lower maximum.
    local shared=$U_MAX
    [[ $SKIP_POSTGRES == 1 || $P_MAX -ge $U_MAX ]] || shared=$P_MAX
    for percent in 50 90; do
        log "replay lag at $percent% of $shared/s (the lower maximum), Understudy then PostgreSQL"
        understudy_lag "$percent" $((shared * percent / 100))
        [[ $SKIP_POSTGRES == 1 ]] || postgres_lag "$percent" $((shared * percent / 100))
    done
    understudy_promote
    [[ $SKIP_POSTGRES == 1 ]] || postgres_promote
    stop_all
    understudy_basecopy
    [[ $SKIP_POSTGRES == 1 ]] || postgres_basebackup
    echo "Standby replication on loopback: $(nproc) cores, $CLIENTS clients, $VALUE_BYTES-byte values, $KEYS keys," \
        "$BEHIND behind, $(date -u +%Y-%m-%dT%H:%MZ); load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| | Understudy | PostgreSQL 15 |"
    echo "|---|---:|---:|"
    catchup_rows
    echo "| (a) catch-up MB/s (tranlog / WAL bytes) | $U_CATCHUP_MB | $P_CATCHUP_MB |"
    echo "| (b) max commit rate, closed loop, standby attached, median of 3 (/s) | $U_MAX | $P_MAX |"
    echo "| (b) replay lag p50 / p99 at 50% of the lower max | $(lag_cell "$U_LAG_50") | $(lag_cell "$P_LAG_50") |"
    echo "| (b) replay lag p50 / p99 at 90% of the lower max | $(lag_cell "$U_LAG_90") | $(lag_cell "$P_LAG_90") |"
    echo "| (c) promote → first accepted write, ms | $U_PROMOTE_MS ($U_PROMOTE_PHASES) | $P_PROMOTE_MS |"
    echo "| (c) promote inside the node, ms | $U_PROMOTE_IN_NODE_MS | - |"
    basecopy_rows
    write_json
}

main "$@"
