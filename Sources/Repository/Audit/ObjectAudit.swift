import SystemPackage
import Tranlog

/// The object audit: what the files hold must fit together. The runs' objects add up and are no
/// newer than the checkpoint MANIFEST records; that checkpoint lies on the epoch history and is the
/// record it names; the tranlogs' own checkpoint records agree with MANIFEST; and recovery finds the
/// file it starts from. (Keys and values past `TranlogLimits` were already refused, entry by entry,
/// when the page audit decoded the runs.)
struct ObjectAudit {
    let directory: DataDirectory
    let manifest: Manifest
    let fileSystem: any TranlogFileSystem

    private var manifestFile: String { directory.extents.appending(ManifestStore.fileName).string }
    private var checkpoint: AppliedPosition { manifest.checkpoint }

    func audit(
        extents: ExtentAudit.Outcome, history: EpochHistory?, logs: TranlogAudit.Outcome, restoring: Bool,
        _ findings: inout AuditFindings
    ) {
        auditRunSeqnos(extents.verifiedRuns, &findings)
        if extents.complete { auditObjectCount(extents, &findings) }
        if let history { auditHistory(history, &findings) }
        // In restore mode `tranlogs/` holds the logs being restored, not the ones this MANIFEST was
        // written beside: they cannot be held against it.
        guard !restoring else {
            findings.note(file: directory.restoreStateFile.string, "restore mode: MANIFEST is not checked against the tranlogs")
            return
        }
        auditCheckpointRecord(in: logs.files, &findings)
        if let latest = logs.latestCheckpoint, latest.epoch == history?.current.epoch {
            auditLatestCheckpoint(latest, &findings)
        }
        auditStartingFile(in: logs.files, &findings)
    }

    /// A checkpoint writes the state as of its position, so no entry may be newer than it.
    private func auditRunSeqnos(_ runs: [ExtentRunSummary], _ findings: inout AuditFindings) {
        for run in runs where run.maxSeqno > checkpoint.seqno {
            findings.problem(
                .object, file: directory.extents.appending(run.fileName).string,
                "holds an entry of seqno \(run.maxSeqno), after the checkpoint MANIFEST records (\(checkpoint))")
        }
    }

    /// Every live entry of the newest run is an object, and no run adds more objects than its live
    /// entries: exact with one run, bounds with several (older entries may be shadowed).
    private func auditObjectCount(_ extents: ExtentAudit.Outcome, _ findings: inout AuditFindings) {
        let live = extents.verifiedRuns.map { $0.entryCount - $0.tombstoneCount }
        let expected = (live.last ?? 0)...live.reduce(0, +)
        guard !expected.contains(UInt64(extents.table.count)) else { return }
        findings.problem(
            .object, file: directory.extents.string,
            "the runs merge into \(extents.table.count) objects, but their footers allow \(expected.lowerBound)...\(expected.upperBound)")
    }

    private func auditHistory(_ history: EpochHistory, _ findings: inout AuditFindings) {
        guard !history.contains(LogPosition(epoch: checkpoint.epoch, seqno: checkpoint.seqno)) else { return }
        findings.problem(
            .object, file: directory.epochsFile.string,
            "the checkpoint MANIFEST records (\(checkpoint)) is not on the epoch history (\(history)): "
                + "the extents and the epochs file belong to different timelines")
    }

    /// When the tranlogs still hold the checkpoint's record, it must be that record: a record read on
    /// its own (FORMATS.md 1.2), so damage earlier in the file does not hide it.
    private func auditCheckpointRecord(in files: [TranlogFileRef], _ findings: inout AuditFindings) {
        guard let eventID = checkpoint.eventID, let ref = files.first(where: { $0.fileID == eventID.fileID }),
            let contents = try? TranlogFileContents.load(ref, fileSystem: fileSystem)
        else { return }
        let offset = Int(clamping: eventID.offset)
        guard offset >= FileHeader.size, offset < contents.bytes.count,
            case .record(let record) = RecordFrame.decode(contents.bytes[offset...])
        else {
            findings.problem(
                .object, file: ref.path.string, offset: eventID.offset,
                "MANIFEST's checkpoint (\(checkpoint)) names event id \(eventID), but no valid record starts there")
            return
        }
        guard record.header.seqno != checkpoint.seqno || (checkpoint.recordCRC.map { $0 != record.crc } ?? false) else { return }
        findings.problem(
            .object, file: ref.path.string, offset: eventID.offset,
            "MANIFEST's checkpoint is seqno \(checkpoint.seqno)" + (checkpoint.recordCRC.map { " with CRC \(hex($0))" } ?? "")
                + ", but the record at \(eventID) is seqno \(record.header.seqno) with CRC \(hex(record.crc))")
    }

    /// A checkpoint record is written after MANIFEST switches, so it can only name the current
    /// generation or an older one, and recovery's starting file as MANIFEST then had it.
    private func auditLatestCheckpoint(_ latest: TranlogAudit.CheckpointRecord, _ findings: inout AuditFindings) {
        let file = directory.tranlogs.appending(latest.eventID.fileID.fileName).string
        let record = "the checkpoint record at \(latest.eventID) (seqno \(latest.seqno))"
        if latest.info.extentGeneration > manifest.generation {
            findings.problem(
                .object, file: manifestFile,
                "\(record) names MANIFEST generation \(latest.info.extentGeneration), but MANIFEST is at generation "
                    + "\(manifest.generation): MANIFEST is older than the tranlogs (an old copy put back?)")
        }
        if latest.info.oldestFileIDNeeded > latest.eventID.fileID {
            findings.problem(
                .object, file: file, offset: latest.eventID.offset,
                "\(record) says recovery needs tranlogs from fileId \(latest.info.oldestFileIDNeeded), after its own file")
        }
        if latest.info.extentGeneration == manifest.generation, latest.info.oldestFileIDNeeded != manifest.oldestFileIDNeeded {
            findings.problem(
                .object, file: file, offset: latest.eventID.offset,
                "\(record) says recovery starts at fileId \(latest.info.oldestFileIDNeeded), but MANIFEST of the same "
                    + "generation says \(manifest.oldestFileIDNeeded)")
        }
    }

    private func auditStartingFile(in files: [TranlogFileRef], _ findings: inout AuditFindings) {
        let needed = manifest.oldestFileIDNeeded
        guard !files.contains(where: { $0.fileID == needed }) else { return }
        findings.problem(
            .object, file: directory.tranlogs.appending(needed.fileName).string,
            "recovery replays tranlogs from \(needed.fileName) (MANIFEST's oldestFileIDNeeded), but it is missing",
            remedy: AuditRemedy.missingTranlog)
    }
}
