import Node

/// One line per standby a primary serves or keeps logs for (`understudy status`, `standbys list`).
func standbyRow(_ standby: StandbyConnectionStatus) -> String {
    var line = "standby \(standby.standby.map { "\($0)" } ?? standby.peer) at \(standby.peer): \(standby.state), sent \(standby.sentSeqno), "
        + "flushed \(standby.flushedSeqno), applied \(standby.appliedSeqno)"
    if let records = standby.lagRecords {
        line += ", lag \(records) records" + (standby.lagSeconds.map { " / \(String(format: "%.1f", $0)) s" } ?? "")
    }
    if let bytes = standby.retainedBytes, let file = standby.neededFileID { line += ", keeping \(bytes) bytes from \(file.fileName)" }
    if standby.state == "disconnected", let seen = standby.lastSeen { line += ", last seen \(seen)" }
    if standby.logsRemoved == true { line += " (LOGS REMOVED: re-seed it from a new backup)" }
    return line + (standby.rejection.map { ", refused: \($0)" } ?? "")
}

/// The tranlog kept for standbys and the runway under `--max-retained-mbytes`.
func retentionLine(_ retention: RetentionStatus) -> String {
    var line = "retention: \(retention.retainedBytes) tranlog bytes kept for standbys"
    if let limit = retention.maxRetainedBytes, let runway = retention.runwayBytes {
        line += " of at most \(limit); runway \(runway) bytes"
        line += retention.runwaySeconds.map { " (about \(Int($0)) s at the recent growth)" } ?? " (the log is not growing)"
    }
    return line
}
