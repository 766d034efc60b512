# Shared by the benchmark scripts beside PostgreSQL: sourced, not run. Expects PROJECT, BUILD_PATH,
# SKIP_BUILD, PG_BIN, WORK (once the scratch directory exists), the arrays pids (Understudy nodes and
# clients) and PG_CLUSTERS (data directories of running PostgreSQL servers), and a log() function.

# parse_options USAGE FLAG VARIABLE ARGS…: FLAG sets VARIABLE to 1 (else 0), `--json FILE` sets
# JSON_FILE (made absolute: the scripts change nothing, but a relative name must not depend on it).
parse_options() {
    local usage=$1 flag=$2 variable=$3
    shift 3
    printf -v "$variable" 0
    JSON_FILE=""
    while [[ $# -gt 0 ]]; do
        case $1 in
            "$flag") printf -v "$variable" 1; shift ;;
            --json) [[ $# -ge 2 ]] || { log "--json needs a file"; exit 2; }; JSON_FILE=$2; shift 2 ;;
            *) echo "usage: $0 $usage" >&2; exit 2 ;;
        esac
    done
    [[ -z $JSON_FILE || $JSON_FILE == /* ]] || JSON_FILE=$PWD/$JSON_FILE
}

# Exits unless perf is installed (the profiling scripts record with it).
require_perf() {
    command -v perf >/dev/null || { log "perf is required (apt-get install linux-perf)"; exit 1; }
}

# Stops every process and server started so far. Between a script's parts too, so that one part's
# background work (a promoted PostgreSQL's end-of-recovery checkpoint, an Understudy node's
# checkpoint) does not run inside the next part's timing.
stop_all() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for cluster in "${PG_CLUSTERS[@]}"; do as_postgres "$PG_BIN/pg_ctl" -D "$cluster" -m immediate -w stop >/dev/null 2>&1 || true; done
    pids=()
    PG_CLUSTERS=()
}

# Stops the process started last (an Understudy node: SIGINT, a clean stop) and forgets it.
stop_last_node() {
    kill -INT "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
    unset 'pids[-1]'
}

# Stops the PostgreSQL server started last and forgets it.
pg_stop_last() {
    as_postgres "$PG_BIN/pg_ctl" -D "${PG_CLUSTERS[-1]}" -m fast -w stop >/dev/null
    unset 'PG_CLUSTERS[-1]'
}

# Stops every process and server the script started and removes the scratch directory (the EXIT trap;
# KEEP_WORK=1 keeps it, with the nodes' logs, for a look afterwards).
cleanup() {
    trap - EXIT INT TERM
    stop_all
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "kept $WORK (its logs and data directories)"; else rm -rf "$WORK"; fi
}

psql_at() { local port=$1; shift; "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

# pg_start DATA PORT: a PostgreSQL server on 127.0.0.1:PORT, its socket in the scratch directory,
# once it accepts connections.
pg_start() { pg_ctl_start -w "$@"; }

# pg_launch DATA PORT: pg_start without the wait (pg_ctl returns once the server is forked).
pg_launch() { pg_ctl_start -W "$@"; }

pg_ctl_start() {
    local wait=$1 data=$2 port=$3
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" "$wait" -o "-c listen_addresses=127.0.0.1 -c port=$port \
        -c unix_socket_directories=$WORK/pgsocket" start >/dev/null
    PG_CLUSTERS+=("$data")
}

# Where the scratch directory goes: BENCH_DIR, else /tmp unless it is a tmpfs (that would flatter
# fsync), then the project's own disk.
scratch_root() {
    if [[ -n ${BENCH_DIR:-} ]]; then echo "$BENCH_DIR"
    elif [[ $(stat -f -c %T /tmp) == tmpfs ]]; then echo "$PROJECT"
    else echo /tmp
    fi
}

# PostgreSQL refuses to run as root.
as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Builds release `understudy` and `understudy-load` (unless SKIP_BUILD=1) and sets $bin to them.
build() {
    bin=$BUILD_PATH/release
    [[ $SKIP_BUILD == 1 ]] && return
    log "building release binaries in $BUILD_PATH"
    for product in understudy understudy-load; do
        swift build -c release --package-path "$PROJECT" --scratch-path "$BUILD_PATH" --product "$product" >&2
    done
}

# write_upsert_script VALUE_BYTES FILE: a pgbench script upserting a random VALUE_BYTES value to a
# random key among :keys, as understudy-load does.
write_upsert_script() {
    local value_bytes=$1 file=$2 hex
    hex=$(head -c "$value_bytes" /dev/urandom | od -An -v -tx1 | tr -d ' \n')
    cat >"$file" <<SQL
\set k random(0, :keys - 1)
INSERT INTO kv (key, value) VALUES ('load-' || :k::text, '\\x$hex'::bytea) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
SQL
}

# primary_ahead_of_snapshot SOURCE_ID SNAPSHOT N: a primary (deploy/lib/nodes.sh's start_node, the
# key in $WORK/key) whose snapshot is taken into SNAPSHOT before it takes N commits (32 clients,
# 100-byte values, KEYS keys, default 100,000); sets primary (its URL), primary_replication and
# target (its last seqno). The catch-up scripts start a standby on the snapshot.
primary_ahead_of_snapshot() {
    local source_id=$1 snapshot=$2 commits=$3
    "$bin/understudy" init --data "$WORK/primary" --source-id "$source_id" >/dev/null
    head -c 32 /dev/urandom >"$WORK/key" && chmod 600 "$WORK/key"
    start_node "$WORK/primary.log" start --data "$WORK/primary" --replication 127.0.0.1:0 --replication-key-file "$WORK/key"
    primary=$url primary_replication=$replication
    "$bin/understudy" backup snapshot --node "$primary" --data "$WORK/primary" --to "$snapshot" >/dev/null
    log "$commits commits while the standby is stopped"
    "$bin/understudy-load" --node "$primary" --clients 32 --value-bytes 100 --keys "${KEYS:-100000}" --commits "$commits" \
        --json >/dev/null
    target=$(curl -sf "$primary/status" | jq -r .repository.applied.seqno)
}
