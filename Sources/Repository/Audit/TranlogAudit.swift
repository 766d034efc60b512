import SystemPackage
import Tranlog

/// The page audit of `tranlogs/`: every record of every file read through `TranlogCursor`, so each
/// check recovery makes applies. The cursor stops at the first damage; the audit reports it and
/// starts a new stretch at the next file, so one bad file does not hide the state of the others.
struct TranlogAudit {
    let directory: DataDirectory
    /// Nil when neither understudy.json nor MANIFEST could say: the first file's id is then expected.
    let repositoryID: RepositoryID?
    let fileSystem: any TranlogFileSystem

    struct Outcome {
        /// Every tranlog file found.
        var files: [TranlogFileRef] = []
        /// The last checkpoint record that verified, for the object audit.
        var latestCheckpoint: CheckpointRecord?
    }

    struct CheckpointRecord {
        var eventID: EventID
        var seqno: Seqno
        var epoch: Epoch
        var info: CheckpointInfo
    }

    func audit(_ findings: inout AuditFindings, _ counts: inout AuditCounts) -> Outcome {
        let logs: TranlogDirectory
        do { logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem) } catch {
            findings.problem(.page, file: directory.tranlogs.string, error.description)
            return Outcome()
        }
        counts.tranlogFiles = logs.files.count
        var outcome = Outcome(files: logs.files)
        var remaining = logs.files[...]
        while !remaining.isEmpty {
            let stretch = TranlogDirectory(description: logs.description, files: Array(remaining))
            guard let damaged = read(stretch, &outcome, &findings, &counts) else { break }
            remaining = remaining.drop { $0.fileID <= damaged }
        }
        return outcome
    }

    /// Reads a stretch of files until its first damage. Returns the last file that damage makes
    /// untrustworthy (the next stretch starts after it), or nil when the stretch was read to its end.
    private func read(
        _ stretch: TranlogDirectory, _ outcome: inout Outcome, _ findings: inout AuditFindings, _ counts: inout AuditCounts
    ) -> FileID? {
        var cursor = TranlogCursor(directory: stretch, fileSystem: fileSystem, expectedRepository: repositoryID)
        do {
            while let record = try cursor.next() {
                counts.tranlogRecords += 1
                if case .checkpoint(let info) = record.body {
                    outcome.latestCheckpoint = CheckpointRecord(
                        eventID: record.eventID, seqno: record.seqno, epoch: record.header.epoch, info: info)
                }
            }
        } catch {
            let damage = locate(error, in: stretch)
            let remedy = if case .missingLog = error { AuditRemedy.missingTranlog } else { AuditRemedy.restore }
            findings.problem(.page, file: damage.file, offset: damage.offset, error.description, remedy: remedy)
            // Always move on by at least one file, whatever the error names.
            return max(damage.fileID ?? stretch.files.last!.fileID, stretch.files.first!.fileID)
        }
        if let torn = cursor.tornTail {
            findings.note(
                file: torn.file, offset: torn.offset,
                "torn tail of \(torn.byteCount) bytes in fileId \(torn.fileID) (\(torn.reason)): never acknowledged; "
                    + "the writer cuts it off when it next opens")
        }
        return nil
    }

    /// The file and offset an error names, and the last file it concerns.
    private func locate(_ error: TranlogError, in stretch: TranlogDirectory) -> (file: String, offset: UInt64?, fileID: FileID?) {
        func path(_ fileID: FileID) -> String {
            stretch.files.first { $0.fileID == fileID }?.path.string ?? directory.tranlogs.appending(fileID.fileName).string
        }
        func named(_ file: String) -> (String, UInt64?, FileID?) { (file, nil, stretch.files.first { $0.path.string == file }?.fileID) }
        switch error {
        case .corruptRecord(let file, let fileID, let offset, _, _), .sequenceBreak(let file, let fileID, let offset, _, _),
            .damagedBeforeValidRecords(let file, let fileID, let offset, _, _, _):
            return (file, offset, fileID)
        case .forkInTime(let file, let fileID, _, _, _, _), .epochGoesBack(let file, let fileID, _, _, _):
            return (file, nil, fileID)
        case .truncatedLog(let fileID, _, _):
            return (path(fileID), nil, fileID)
        case .missingLog(let after, _, _):
            return (directory.tranlogs.appending(after.next.fileName).string, nil, after)
        case .corruptHeader(let file, _), .otherRepository(let file, _, _), .misnamedFile(let file, _), .unreadableArchive(let file, _),
            .io(_, let file, _):
            return named(file)
        case .writerFailed, .writerClosed, .recordOverLimits, .invalidConfiguration, .noLogs, .archiveCommandFailed:
            // Writing and archiving errors: reading never raises them.
            return (directory.tranlogs.string, nil, nil)
        }
    }
}
