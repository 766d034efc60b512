import ArgumentParser
import Node
import Tranlog

/// `understudy standby pause [--until-seqno N | --until-time T]`: PostgreSQL's pg_wal_replay_pause,
/// with a recovery target.
struct StandbyPauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a running standby's apply, now or at a target; receiving and flushing go on.",
        discussion: """
            Without a target, applying stops after the apply in progress. --until-seqno N applies through \
            seqno N, then stops; --until-time T (RFC 3339, e.g. 2026-11-22T03:12:58Z) applies every record \
            the primary committed at or before T, then stops (it knows it has reached T once a later record \
            is flushed). A new pause replaces the last one; a target the standby has already applied past \
            is refused. `understudy status` shows the pause and whether its target is reached. The pause \
            lasts across restarts until `understudy standby resume`. Promoting a standby paused at a \
            target opens the new epoch there and sets the later records aside; promoting one paused \
            without a target is refused. \(AdminOptions.tokenHelp)
            """)

    @Option(name: .customLong("until-seqno"), help: ArgumentHelp("Apply through this seqno, then pause.", valueName: "N"))
    var untilSeqno: UInt64?

    @Option(name: .customLong("until-time"), help: ArgumentHelp(
        "Apply every record committed at or before this time (RFC 3339), then pause.", valueName: "T"),
        transform: ArgumentParsing.timestamp)
    var untilTime: Timestamp?

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if untilSeqno != nil && untilTime != nil { throw ValidationError("--until-seqno and --until-time exclude each other") }
    }

    func run() throws {
        let request = StandbyPauseRequest(untilSeqno: untilSeqno.map { Seqno($0) }, untilTime: untilTime?.iso8601)
        // Pausing waits for the apply in progress.
        try printStandbyMode(try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.standbyPause(request, token: $1) }, json: json)
    }
}

/// `understudy standby resume`: PostgreSQL's pg_wal_replay_resume.
struct StandbyResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused standby's apply (as its --apply-delay lets it).",
        discussion: "Clears the pause, reached or not, and applies everything flushed. \(AdminOptions.tokenHelp)")

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        try printStandbyMode(try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.standbyResume(token: $1) }, json: json)
    }
}

/// A pause in `status` and in the pause and resume reports.
func pauseLine(_ paused: StandbyPause) -> String {
    let target = paused.untilSeqno.map { "at seqno \($0)" } ?? paused.untilTime.map { "after the last commit at or before \($0.iso8601)" }
    let state = target.map { paused.reachedTarget ? "reached its target (\($0))" : "applying until its target (\($0))" } ?? "now"
    return "\(state), applied seqno \(paused.appliedSeqno), since \(paused.since.iso8601)"
}

/// An apply delay in `status`.
func delayLine(_ delay: ApplyDelayStatus) -> String {
    let held = delay.heldFromSeqno.map { "\(delay.heldRecords) records held (seqno \($0)…\(delay.heldThroughSeqno ?? $0))" } ?? "nothing held"
    return "\(delay.seconds) s; applying commits up to \(delay.horizon.iso8601); \(held), "
        + "\(delay.heldBytesInMemory) of \(delay.heldBytesLimit) bytes in memory"
}
