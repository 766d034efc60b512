import ArgumentParser
import Foundation
import Logging
import Node
import Repository
import SystemPackage
import Tranlog

/// `understudy tranlog purge` (Tungsten's `thl purge`): removes old tranlog files, whole files only,
/// oldest first — never one that crash recovery, a known standby or an unfinished restore needs.
struct TranlogPurge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove old tranlog files that nothing needs any more.",
        discussion: """
            Removes whole files, oldest first, through --through-fileid N (default: every file nothing needs). \
            It refuses files that crash recovery needs (the file of the last checkpoint's position and later), \
            files a known standby needs (`understudy standbys list`) and files an unfinished restore needs; \
            --force overrides the standby and restore reasons, never recovery's. Without --yes it shows what it \
            would remove and asks on a terminal. On a stopped node it takes the data directory lock; with --node \
            URL the running node does the same checks and removal (admin token: DIR/admin.token or UNDERSTUDY_ADMIN_TOKEN).
            """)

    @Option(help: ArgumentHelp("The data directory (of a stopped node; with --node only for its admin token).", valueName: "DIR"))
    var data: String?

    @Option(name: .customLong("node"), help: ArgumentHelp("Ask this running node to purge (its HTTP API).", valueName: "URL"))
    var node: String?

    @OptionGroup(title: "TLS (https:// node URLs)") var tls: ClientTLSOptions

    @Option(name: .customLong("through-fileid"), help: ArgumentHelp("Remove files up to and including this fileId.", valueName: "N"))
    var throughFileID: UInt64?

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Remove files a known standby or an unfinished restore still needs (never those recovery needs).")
    var force = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if node == nil && data == nil { throw ValidationError("pass --data DIR (a stopped node) or --node URL (a running one)") }
    }

    func run() throws {
        let through = throughFileID.map { FileID($0) }
        let purge: (Bool) throws -> PurgeReport
        var cleanup: () -> Void = {}
        if let node {
            let token = try AdminOptions.token(data: data)
            let client = try NodeClient(url: node, timeout: NodeOptions.defaultTimeout, tls: tls.configuration)
            cleanup = { client.close() }
            purge = { dryRun in try client.purgeTranlogs(TranlogPurgeRequest(throughFileID: through, force: force, dryRun: dryRun), token: token) }
        } else {
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
            let logs = try StoppedRepositoryLogs(DataDirectory(FilePath(data!)), logger: Logger(label: "understudy.purge"))
            cleanup = { logs.close() }
            purge = { dryRun in try logs.purge(through: through, force: force, dryRun: dryRun) }
        }
        defer { cleanup() }
        if !yes {
            let plan = try purge(true)
            guard !plan.removed.isEmpty else { return try show(plan) }
            guard isatty(STDIN_FILENO) == 1 else {
                throw CommandError("\(plan.message); not on a terminal, so not asking: add --yes to remove them")
            }
            try show(plan)
            writeToStandardError(Array("Remove these files? [y/N] ".utf8))
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                throw CommandError("nothing removed")
            }
        }
        try show(try purge(false))
    }

    private func show(_ report: PurgeReport) throws {
        if json { return print(try jsonLine(report)) }
        for file in report.removed { print("\(report.dryRun ? "would remove" : "removed") \(file.path) (\(file.bytes) bytes)") }
        for reason in report.overridden { print("forced past: \(reason)") }
        for reason in report.keptBecause { print("kept: \(reason)") }
        print(report.message)
    }
}
