import ArgumentParser
import Node
import Tranlog

/// `understudy standby offline [--at-seqno N | --immediate]`: Tungsten's `replicator offline`.
struct StandbyOfflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline",
        abstract: "Take a running standby offline: stop receiving and applying.",
        discussion: """
            By default the standby stops receiving, applies everything already flushed, then stays \
            offline. --immediate stops now (an apply already running completes: it is atomic). \
            --at-seqno N keeps streaming and applying until applied is exactly N (never past it), then \
            goes offline; `understudy status` shows it pending. Offline lasts across restarts until \
            `understudy standby online`. \(AdminOptions.tokenHelp)
            """)

    @Option(name: .customLong("at-seqno"), help: ArgumentHelp("Go offline once applied reaches exactly this seqno.", valueName: "N"))
    var atSeqno: UInt64?

    @Flag(help: "Stop receiving and applying now, without applying what is flushed.")
    var immediate = false

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if atSeqno != nil && immediate { throw ValidationError("--at-seqno and --immediate exclude each other") }
    }

    func run() throws {
        let request = StandbyOfflineRequest(atSeqno: atSeqno.map { Seqno($0) }, immediate: immediate ? true : nil)
        // Going offline waits for the apply in progress, which can be long on a standby far behind.
        try printStandbyMode(try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.standbyOffline(request, token: $1) }, json: json)
    }
}

/// How `offline`, `online`, `pause` and `resume` report.
func printStandbyMode(_ report: StandbyModeReport, json: Bool) throws {
    if json { return print(try jsonLine(report)) }
    print(report.message)
    printFields([
        "state": report.state,
        "applied": "seqno \(report.applied.seqno)" + (report.applied.eventID.map { " at \($0)" } ?? ""),
        "flushed": "seqno \(report.flushedSeqno)",
    ])
    if let paused = report.paused { printFields(["paused": pauseLine(paused)]) }
}
