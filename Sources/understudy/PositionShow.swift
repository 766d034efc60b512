import ArgumentParser
import Repository
import SystemPackage
import Tranlog

/// `understudy position show --data DIR`: the stored applied position and what the tranlogs hold
/// after it. Read-only and lock-free, so it works on a copy of a running node's directory.
struct PositionShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the applied position in MANIFEST, the last record in the tranlogs, and whether they join.",
        discussion: """
            Reads without taking the lock: it works on a stopped node, on a `cp -a` copy of a running one, and on a \
            running node (then the figures may be moving, which the lock line says). Exit status 1 when the tranlogs \
            are damaged, or hold a different record at the applied seqno than MANIFEST names; everything is printed first.
            """)

    @Option(help: ArgumentHelp("The data directory.", valueName: "DIR"))
    var data: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = try PositionReport.inspect(DataDirectory(FilePath(data)))
        if json { print(try jsonDocument(report)) } else { printReport(report) }
        if report.tranlogs.damage != nil || report.tranlogs.appliedRecordMatches?.ok == false { throw ExitCode(1) }
    }

    private func printReport(_ report: PositionReport) {
        let applied = report.applied
        let scan = report.tranlogs
        printFields([
            "data directory": report.dataDirectory,
            "lock": report.lock.detail,
            "applied seqno": "\(applied.seqno)",
            "applied epoch": "\(applied.epoch)",
            "event id": applied.eventID.map { "\($0)" } ?? "none",
            "source id": applied.sourceID.map { "\($0)" } ?? "none",
            "commit time": applied.time?.iso8601 ?? "unknown",
            "record CRC": applied.recordCRC.map { CRCText.format($0) } ?? "unknown",
            "manifest": "generation \(report.manifestGeneration), oldest tranlog needed \(report.oldestFileIDNeeded.fileName)",
            "tranlogs": scan.files.isEmpty ? "none in \(scan.directory)" : "\(fileRange(scan.files)), \(counted(scan.span.records, "record")), seqno \(scan.span.seqnoRange ?? "none")",
            "last record": scan.span.last.map { "seqno \($0.seqno), epoch \($0.epoch), \($0.eventID), \($0.time.iso8601)" } ?? "none",
            "torn tail": scan.tornTail ?? "none",
            "damage": scan.damage ?? "none",
            "applied record": scan.appliedRecordMatches.map { ($0.ok ? "" : "MISMATCH: ") + $0.detail } ?? "not in the tranlogs",
            "coverage": (report.coverage.ok ? "" : "NO: ") + report.coverage.detail,
            "restore mode": report.restoreMode ? "yes (restore.json)" : "no",
            "epochs": report.epochs.map(\.description).joined(separator: "; "),
        ])
    }
}
