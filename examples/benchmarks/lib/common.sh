# Shared by the benchmark scripts beside PostgreSQL: sourced, not run. Expects PROJECT, BUILD_PATH,
# SKIP_BUILD, WORK (once the scratch directory exists) and a log() function.

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
