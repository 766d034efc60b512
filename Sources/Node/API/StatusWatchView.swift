import Foundation
import Tranlog

/// What `understudy status --watch` knows at one refresh: the node's last status, and since when it
/// has not answered (nil while it answers).
public struct StatusObservation: Sendable {
    public var node: String
    public var time: Date
    public var status: NodeStatus?
    public var unreachableSince: Date?
    public var error: String?

    public init(node: String, time: Date, status: NodeStatus?, unreachableSince: Date? = nil, error: String? = nil) {
        self.node = node
        self.time = time
        self.status = status
        self.unreachableSince = unreachableSince
        self.error = error
    }
}

/// The text of `understudy status --watch`: a screen redrawn in place on a terminal, one line per
/// refresh otherwise. Pure functions of the observation, so tests pin the layout.
public enum StatusWatchView {
    /// The screen, top to bottom.
    public static func screen(_ observation: StatusObservation) -> [String] {
        var lines = ["\(observation.node)  \(clock(observation.time)) UTC  (Ctrl-C to quit)"]
        if let since = observation.unreachableSince {
            lines.append("unreachable since \(clock(since)) UTC, retrying: \(observation.error ?? "no answer")")
            if observation.status != nil { lines.append("last known status:") }
        }
        guard let status = observation.status else { return lines }
        lines += fields(heading(status))
        if let replication = status.replication { lines += fields(standby(replication)) }
        lines += (status.standbys ?? []).map { standbyRow($0, primarySeqno: status.repository.applied.seqno) }
        if let retention = status.retention { lines.append(retentionLine(retention)) }
        lines.append(status.restoreStatus)
        return lines
    }

    /// The one line printed per refresh when stdout is not a terminal.
    public static func line(_ observation: StatusObservation) -> String {
        var parts = [clock(observation.time)]
        if let since = observation.unreachableSince {
            parts.append("unreachable since \(clock(since)): \(observation.error ?? "no answer")")
        } else if let status = observation.status {
            parts.append("\(status.role) seqno \(status.repository.applied.seqno)")
            if let replication = status.replication {
                let applied = replication.applied
                parts.append("\(replication.state) applied \(applied.seqno) behind \(applied.recordsBehind) records \(seconds(applied.secondsBehind))")
                if let apply = replication.apply { parts.append("apply \(rate(apply)) catch-up \(catchUp(apply, replication))") }
            }
            for standby in status.standbys ?? [] {
                parts.append(standbyRow(standby, primarySeqno: status.repository.applied.seqno))
            }
        }
        return parts.joined(separator: " | ")
    }

    /// ▁ for 0 up to █ for the largest value, or for `scaleAtLeast` when every value is below it (so
    /// 2 ms of lag does not draw as a full wall); a space where the value is unknown. All zero draws
    /// a flat ▁ line.
    public static func sparkline(_ values: [Double?], scaleAtLeast floor: Double = 0) -> String {
        let bars = Array("▁▂▃▄▅▆▇█")
        let top = max(floor, values.compactMap { $0 }.max() ?? 0)
        return String(values.map { value -> Character in
            guard let value else { return " " }
            guard top > 0 else { return bars[0] }
            return bars[min(bars.count - 1, Int((max(0, value) / top * Double(bars.count - 1)).rounded()))]
        })
    }

    private static func heading(_ status: NodeStatus) -> [(String, String)] {
        let repository = status.repository
        return [
            ("role", "\(status.role), epoch \(repository.epoch)"),
            ("seqno", "\(repository.applied.seqno)" + (repository.applied.time.map { " committed \($0)" } ?? "")),
        ]
    }

    private static func standby(_ replication: StandbyReplicationStatus) -> [(String, String)] {
        var rows = [
            ("state", "\(replication.state) from \(replication.primary) (receiver \(replication.receiver))"
                + (replication.lastRejection.map { "; refused: \($0)" } ?? "")),
        ]
        if let refusal = replication.refusal {
            rows.append(("refusal", "\(refusal.message) (since \(refusal.since), \(refusal.count) time(s))"))
        }
        rows += [
            ("primary", (replication.primaryLastSeqno.map { "seqno \($0)" } ?? "seqno unknown (not heard yet)")
                + (replication.secondsSincePrimaryContact.map { ", last heard \(seconds($0)) ago" } ?? "")),
            ("received", stage(replication.received)),
            ("flushed", stage(replication.flushed)),
            ("applied", stage(replication.applied)),
        ]
        if let history = replication.lagHistory, !history.isEmpty {
            let peak = history.compactMap(\.secondsBehind).max() ?? 0
            // Scaled to the minute's peak, but never below a second: lag well under a second is flat.
            rows.append(("lag", "\(sparkline(history.map(\.secondsBehind), scaleAtLeast: 1))  now \(seconds(replication.applied.secondsBehind)), "
                + "peak \(seconds(peak)) over \(history.count) s"))
        }
        if let apply = replication.apply {
            rows.append(("apply", rate(apply)))
            rows.append(("catch-up", catchUp(apply, replication)))
        }
        return rows
    }

    /// One standby as its primary (at `primarySeqno`) sees it.
    public static func standbyRow(_ standby: StandbyConnectionStatus, primarySeqno: Seqno) -> String {
        var line = "standby \(standby.standby.map { "\($0)" } ?? standby.peer) at \(standby.peer): \(standby.state), sent \(standby.sentSeqno), "
            + "flushed \(standby.flushedSeqno), applied \(standby.appliedSeqno)"
        line += ", \(standby.lagRecords ?? standby.appliedSeqno.distance(to: primarySeqno)) records behind"
            + (standby.lagSeconds.map { " (\(String(format: "%.1f", $0)) s)" } ?? "")
        if let bytes = standby.retainedBytes, let file = standby.neededFileID { line += ", keeping \(bytes) bytes from \(file.fileName)" }
        if standby.state == "disconnected", let seen = standby.lastSeen { line += ", last seen \(seen)" }
        if standby.logsRemoved == true { line += " (LOGS REMOVED: re-seed it from a new backup)" }
        return line + (standby.rejection.map { ", refused: \($0)" } ?? "")
    }

    /// The tranlog kept for standbys and the runway under `--max-retained-mbytes`.
    public static func retentionLine(_ retention: RetentionStatus) -> String {
        var line = "retention: \(retention.retainedBytes) tranlog bytes kept for standbys"
        if let limit = retention.maxRetainedBytes, let runway = retention.runwayBytes {
            line += " of at most \(limit); runway \(runway) bytes"
            line += retention.runwaySeconds.map { " (about \(wholeSeconds($0)) at the recent growth)" } ?? " (the log is not growing)"
        }
        return line
    }

    /// A standby's stage as records, bytes and seconds behind its primary.
    public static func stage(_ stage: StandbyReplicationStatus.Stage) -> String {
        "seqno \(stage.seqno), \(counted(stage.recordsBehind, "record"))" + (stage.bytesBehind.map { ", \($0) bytes" } ?? "")
            + (stage.secondsBehind.map { ", " + seconds($0) } ?? "") + " behind"
    }

    private static func rate(_ apply: ApplyRateStatus) -> String {
        String(format: "%.0f records/s, %.2f MB/s (primary commits %.0f/s, last %.0f s)",
            apply.recordsPerSecond, apply.bytesPerSecond / 1e6, apply.primaryRecordsPerSecond, apply.windowSeconds)
    }

    private static func catchUp(_ apply: ApplyRateStatus, _ replication: StandbyReplicationStatus) -> String {
        // Cut off from the primary, the standby cannot know what it is missing: no estimate at all.
        if ["disconnected", "stalled", "offline"].contains(replication.state) {
            return "unknown while \(replication.state)"
        }
        guard let eta = apply.catchUpSeconds else { return "not catching up" }
        if eta == 0 { return "caught up" }
        return eta < 1 ? "keeping up (< 1 s)" : String(format: "about %.0f s", eta.rounded(.up))
    }

    /// A count of seconds a node reported, to the nearest second (in powers of ten past 10¹⁵).
    /// Formatted, not converted to `Int`, which traps on a value past its range that a hostile or
    /// broken node can send.
    public static func wholeSeconds(_ value: Double) -> String {
        String(format: abs(value) < 1e15 ? "%.0f s" : "%g s", value)
    }

    private static func seconds(_ value: Double?) -> String {
        value.map { String(format: "%.3f s", $0) } ?? "? s"
    }

    private static func fields(_ rows: [(String, String)]) -> [String] {
        rows.map { label, value in label + ":" + String(repeating: " ", count: max(1, 9 - label.count)) + value }
    }

    private static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }
}
