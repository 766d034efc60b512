import SystemPackage
import Tranlog

/// The page audit of `extents/`: every run MANIFEST names is there, agrees with what MANIFEST
/// records about it, and reads back block by block; files MANIFEST does not name are noted.
struct ExtentAudit {
    let directory: DataDirectory
    let repositoryID: RepositoryID
    let fileSystem: any TranlogFileSystem

    struct Outcome {
        /// The objects of the runs that verified, merged oldest first as recovery loads them.
        var table = ObjectTable()
        /// What the verified runs' own footers say, oldest first.
        var verifiedRuns: [ExtentRunSummary] = []
        /// Whether every run MANIFEST names verified, so that `table` is the whole repository.
        var complete = true
    }

    func audit(_ manifest: Manifest, _ findings: inout AuditFindings, _ counts: inout AuditCounts) -> Outcome {
        var outcome = Outcome()
        for named in manifest.runs {
            guard let (summary, entries) = read(named, &findings, &counts) else {
                outcome.complete = false
                continue
            }
            for entry in entries { outcome.table.load(entry) }
            outcome.verifiedRuns.append(summary)
        }
        noteLeftovers(keeping: manifest, &findings)
        return outcome
    }

    /// Opens a run MANIFEST names and decodes every block; nil, with the problem recorded, when the
    /// run cannot be trusted.
    private func read(
        _ named: ExtentRunSummary, _ findings: inout AuditFindings, _ counts: inout AuditCounts
    ) -> (ExtentRunSummary, [ExtentEntry])? {
        let path = directory.extents.appending(named.fileName)
        guard fileSystem.fileExists(path) else {
            findings.problem(
                .page, file: path.string, "MANIFEST names run \(named.fileName) (generation \(named.generation)), but the file is missing")
            return nil
        }
        counts.extentRuns += 1
        do {
            let run = try ExtentRun.open(path, repositoryID: repositoryID, fileSystem: fileSystem)
            let entries = try run.entries()
            if run.summary != named {
                findings.problem(
                    .page, file: path.string,
                    "MANIFEST records \(Self.describe(named)), but the run holds \(Self.describe(run.summary))")
            }
            counts.extentBlocks += run.blocks.count
            counts.extentEntries += entries.count
            return (run.summary, entries)
        } catch {
            findings.problem(.page, file: path.string, offset: error.auditOffset, error.description)
            return nil
        }
    }

    private static func describe(_ run: ExtentRunSummary) -> String {
        "\(run.entryCount) entries, \(run.tombstoneCount) tombstones, \(run.byteCount) bytes, seqnos \(run.minSeqno)...\(run.maxSeqno)"
    }

    /// Runs and temporary files MANIFEST does not name are what an interrupted checkpoint or merge
    /// leaves: not damage, and recovery removes them.
    private func noteLeftovers(keeping manifest: Manifest, _ findings: inout AuditFindings) {
        for name in Recovery.leftovers(in: directory.extents, keeping: manifest, fileSystem: fileSystem) {
            findings.note(
                file: directory.extents.appending(name).string,
                "not named in MANIFEST: left by an interrupted checkpoint or merge; removed when the repository next opens")
        }
    }
}
