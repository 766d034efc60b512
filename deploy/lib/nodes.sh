# Shared by the scripts that start nodes: sourced, not run. Expects $bin (the directory holding
# `understudy`) and a `pids` array, which an exit trap uses to stop every node started.

# Starts a node in the background (in this shell, so the exit trap can stop it) with
# `understudy VERB ARGS… --http 127.0.0.1:0`; sets $url to its HTTP URL and $replication to its
# replication address (if it has one) once it is ready.
start_node() {
    local log="$1"; shift
    "$bin/understudy" "$@" --http 127.0.0.1:0 >"$log.out" 2>"$log" &
    pids+=($!)
    for _ in $(seq 1 400); do
        if grep -q " ready: " "$log.out" 2>/dev/null; then
            url=$(sed -n 's/.*http=\([^ ]*\).*/http:\/\/\1/p' "$log.out" | head -1)
            replication=$(sed -n 's/.*replication=\([^ ]*\).*/\1/p' "$log.out" | head -1)
            return
        fi
        sleep 0.05
    done
    echo "node did not start; its log:" >&2; cat "$log" >&2; exit 1
}
