import ArgumentParser
import Repository
import Tranlog
import SystemPackage

/// `understudy audit --data DIR`: the manual's page audit and object audit, for deciding after a
/// disk or file-system failure whether the repository can be trusted or must be restored.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check every file, block and record of a data directory, and that they are consistent.",
        discussion: """
            Page audit: understudy.json, epochs, restore.json and MANIFEST parse; every run MANIFEST names is \
            present and matches it; every block of every run and every record of every tranlog verifies. \
            Object audit: the objects add up and are no newer than the checkpoint, which lies on the epoch \
            history and is the record it names; tranlog checkpoint records agree with MANIFEST; the oldest \
            tranlog recovery needs is present. Every problem is reported, not only the first.

            Run it with the node stopped. Exit status 0: no problems (notes, such as a torn tail, are not \
            problems). Exit status 1: each problem is printed with its file, offset and what to do \
            (docs/OPERATIONS.md, "Damaged disk or files").
            """)

    @Option(name: .long, help: "The data directory.")
    var data: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = try Audit.run(DataDirectory(FilePath(data)))
        if json {
            print(try jsonDocument(report))
        } else {
            printReport(report)
        }
        if !report.ok { throw ExitCode.failure }
    }

    private func printReport(_ report: AuditReport) {
        let counts = report.counts
        printFields([
            "data directory": report.dataDirectory,
            "extents": "\(counts.extentRuns) runs, \(counts.extentBlocks) blocks, \(counts.extentEntries) entries",
            "tranlogs": "\(counted(counts.tranlogFiles, "file")), \(counted(counts.tranlogRecords, "record"))",
            "objects": "\(counts.objects)",
            "checkpoint": report.checkpoint?.description ?? "unknown (MANIFEST unreadable)",
            "result": report.ok ? "no problems" : "\(report.problems.count) problem(s)",
        ])
        for note in report.notes { printToStandardError("note: \(note)") }
        for problem in report.problems {
            print("\n\(problem)\n  what to do: \(problem.remedy)")
        }
    }
}
