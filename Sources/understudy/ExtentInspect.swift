import ArgumentParser
import Repository
import SystemPackage
import Tranlog

/// `understudy extent inspect DATA`: the manual's `copydbf -i`, for extents.
struct ExtentInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a data directory's extents: shutdown state, checkpoint position, runs, objects.",
        discussion: """
            Reads MANIFEST and every extent run it names, checking every block's CRC, and reports whether the \
            repository was shut down cleanly, the last checkpoint (time, seqno, epoch, event id), the oldest \
            tranlog recovery needs, the object count and sizes. Safe on a running node: runs are immutable and \
            MANIFEST is replaced atomically.

            Exit status 1 names the damaged file (and block); restore from a backup and replay tranlogs.
            """)

    @Option(name: .long, help: "The data directory.")
    var data: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = try ExtentInspection.inspect(DataDirectory(FilePath(data)))
        if json {
            print(try jsonDocument(report))
            return
        }
        let checkpoint = report.checkpoint
        printFields([
            "data directory": report.dataDirectory,
            "repository id": report.repositoryID.description,
            "shut down cleanly": report.cleanShutdown ? "yes" : "no (running, or it crashed: recovery replays the tranlogs)",
            "last checkpoint": checkpoint.seqno == .zero
                ? "none yet"
                : "seqno \(checkpoint.seqno), epoch \(checkpoint.epoch), event id \(checkpoint.eventID?.description ?? "-"), "
                    + "time \(checkpoint.time?.iso8601 ?? "-")",
            "oldest tranlog needed": report.oldestFileIDNeeded.fileName,
            "objects": "\(report.objectCount)",
            "runs": report.runs.isEmpty ? "none" : "\(report.runs.count) (\(report.runs.map(\.fileName).joined(separator: ", ")))",
            "extent bytes": "\(report.extentBytes)",
            "manifest generation": "\(report.manifestGeneration)",
        ])
    }
}
