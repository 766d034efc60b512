import ArgumentParser
import Node
import Repository
import Tranlog

/// `understudy restore logs`: the manual's restoreFromCurrentLogs, restoreFromArchiveLogs:,
/// restoreToEndOfLog: and restoreToPointInTime:.
struct RestoreLogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Replay transaction logs onto the restoring node, to their end or to a target.",
        discussion: """
            Reads the node's own tranlogs, or with --archive the directories given (plain or .gz files), from \
            the file holding the restored position on. Stops at the end of the logs, or at the first of \
            --to-end-of-log FILEID (that file's last record), --to-time (the last commit at or before it) or \
            --to-seqno. A missing, truncated or corrupt log stops the restore with the manual's messages; \
            what was applied before is kept, and the same command resumes once the file is supplied. \
            \(AdminOptions.tokenHelp)
            """)

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Directories of archived tranlogs, instead of the node's own.", valueName: "DIR"))
    var archive: [String] = []

    @Option(name: .customLong("restore-command"), help: ArgumentHelp(
        "Fetch archived tranlogs through /bin/sh instead: %f is the name wanted (tranlogN.dbf, plain), %p where to write it; "
            + "exit 0 means fetched. Files are fetched in order until the first the command does not deliver.", valueName: "CMD"))
    var restoreCommand: String?

    @Option(name: .customLong("to-end-of-log"), help: ArgumentHelp("Stop after the last record of tranlogFILEID.dbf.", valueName: "FILEID"))
    var toEndOfLog: UInt64?

    @Option(name: .customLong("to-time"), help: ArgumentHelp("Stop after the last commit at or before this time.", valueName: "ISO8601"),
            transform: ArgumentParsing.timestamp)
    var toTime: Timestamp?

    @Option(name: .customLong("to-seqno"), help: ArgumentHelp("Stop after this seqno.", valueName: "N"))
    var toSeqno: UInt64?

    @Flag(name: .customLong("dry-run"), help: "Say what would be applied, and change nothing.")
    var dryRun = false

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the restore report as JSON.")
    var json = false

    func validate() throws {
        if !archive.isEmpty && restoreCommand != nil { throw ValidationError("--archive and --restore-command exclude each other") }
        if [toEndOfLog != nil, toTime != nil, toSeqno != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--to-end-of-log, --to-time and --to-seqno exclude each other")
        }
    }

    private var target: RestoreTarget {
        if let toEndOfLog { return .endOfFile(FileID(toEndOfLog)) }
        if let toTime { return .time(toTime) }
        return toSeqno.map { .seqno(Seqno($0)) } ?? .endOfLogs
    }

    func run() throws {
        let request = LogRestoreRequest(
            archive: archive.isEmpty ? nil : archive.map(absolutePath), restoreCommand: restoreCommand, target: target, dryRun: dryRun)
        let report = try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.restoreLogs(request, token: $1) }
        if json { return print(try jsonLine(report)) }
        print(report.message)
    }
}
