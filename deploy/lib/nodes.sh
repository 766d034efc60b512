# Shared by the scripts that start nodes: sourced, not run, from the project's root.

# Builds `understudy` and `understudy-load` (with `release`: a release build), and sets $bin (where
# they are), $work (a new scratch directory; with a second argument, made under that directory) and
# the `pids` array; on exit every process in `pids` is stopped and $work removed.
begin_scratch() {
    local configuration=debug
    [ "${1:-}" = release ] && configuration=release
    # One product per call: with several --product flags, swift build builds only the last.
    for product in understudy understudy-load; do swift build -c "$configuration" --product "$product" >/dev/null; done
    bin="$(swift build -c "$configuration" --show-bin-path)"
    if [ -n "${2:-}" ]; then work="$(mktemp -d "$2/.scratch-XXXXXX")"; else work="$(mktemp -d)"; fi
    pids=()
    trap end_scratch EXIT
}

end_scratch() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

# Starts a node in the background (in this shell, so the exit trap can stop it) with
# `understudy VERB ARGS… --http 127.0.0.1:0`; sets $url to its HTTP URL and $replication to its
# replication address (if it has one) once it is ready.
start_node() {
    local log="$1"
    launch_node "$@"
    for _ in $(seq 1 400); do
        if grep -q " ready: " "$log.out" 2>/dev/null; then
            read_node_addresses "$log.out"
            return
        fi
        sleep 0.05
    done
    echo "node did not start; its log:" >&2; cat "$log" >&2; exit 1
}

# launch_node LOG VERB ARGS…: start_node without the wait: the node's stdout goes to LOG.out (its
# ready line names its addresses), its log to LOG.
launch_node() {
    local log="$1"; shift
    "$bin/understudy" "$@" --http 127.0.0.1:0 >"$log.out" 2>"$log" &
    pids+=($!)
}

# read_node_addresses OUT: $url and $replication from the ready line in a node's stdout file OUT.
read_node_addresses() {
    url=$(sed -n 's/.*http=\([^ ]*\).*/http:\/\/\1/p' "$1" | head -1)
    replication=$(sed -n 's/.*replication=\([^ ]*\).*/\1/p' "$1" | head -1)
}
