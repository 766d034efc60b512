import Tranlog

/// `position show`: where a data directory stands, read without the lock (so it works on a stopped
/// node, a `cp -a` copy of a running one, or a running node, whose figures may then be moving).
///
/// The applied position is MANIFEST's checkpoint: what the extents reflect, and where a start resumes
/// (Tungsten's trep_commit_seqno). The tranlogs say what could be replayed after it.
public struct PositionReport: Sendable, Encodable {
    public var dataDirectory: String
    public var repositoryID: RepositoryID
    public var applied: AppliedPosition
    public var manifestGeneration: UInt64
    public var oldestFileIDNeeded: FileID
    public var tranlogs: TranlogScan
    /// Whether the tranlogs hold every record from applied + 1 to their last.
    public var coverage: Finding
    public var restoreMode: Bool
    /// `restore.json`, when present.
    public var restore: RestoreState?
    public var epochs: [EpochEntry]
    public var lock: LockState

    /// A yes/no fact with the sentence that explains it.
    public struct Finding: Hashable, Sendable, Codable {
        public var ok: Bool
        public var detail: String
    }

    public static func inspect(_ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> PositionReport {
        let lock = LockState.probe(directory, fileSystem: fileSystem)
        let config = try directory.readConfig(fileSystem: fileSystem)
        let manifest = try Recovery.readManifest(directory, config: config, fileSystem: fileSystem)
        let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        let restore = fileSystem.fileExists(directory.restoreStateFile) ? try RestoreStateStore.read(directory, fileSystem: fileSystem) : nil
        let scan = TranlogScan.read(directory, repositoryID: config.repositoryID, applied: manifest.checkpoint, fileSystem: fileSystem)
        return PositionReport(
            dataDirectory: directory.root.string, repositoryID: config.repositoryID, applied: manifest.checkpoint,
            manifestGeneration: manifest.generation, oldestFileIDNeeded: manifest.oldestFileIDNeeded, tranlogs: scan,
            coverage: scan.coverage(after: manifest.checkpoint.seqno), restoreMode: restore?.active ?? false, restore: restore,
            epochs: history.entries, lock: lock)
    }
}

/// Every record of a data directory's tranlogs, read once through the cursor (all chain checks).
public struct TranlogScan: Hashable, Sendable, Codable {
    public var directory: String
    public var files: [String]
    public var span: LogSpan
    /// The record at the applied seqno, when the logs hold it.
    public var appliedRecord: RecordHeaders?
    /// Whether that record is the one MANIFEST names (same epoch and CRC); nil when not in the logs.
    public var appliedRecordMatches: PositionReport.Finding?
    public var tornTail: String?
    /// Damage that stopped the reading: the records after it are not counted.
    public var damage: String?

    static func read(_ directory: DataDirectory, repositoryID: RepositoryID, applied: AppliedPosition, fileSystem: any TranlogFileSystem) -> TranlogScan {
        var scan = TranlogScan(directory: directory.tranlogs.string, files: [], span: LogSpan())
        do {
            let logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem)
            scan.files = logs.files.map { $0.path.lastComponent?.string ?? $0.fileID.fileName }
            var cursor = TranlogCursor(directory: logs, fileSystem: fileSystem, expectedRepository: repositoryID)
            defer { scan.tornTail = cursor.tornTail?.description }
            while let record = try cursor.next() {
                scan.span.count(record)
                if record.seqno == applied.seqno { scan.appliedRecord = RecordHeaders(record) }
            }
        } catch {
            scan.damage = error.description
        }
        scan.appliedRecordMatches = scan.appliedRecord.map { Self.compare($0, with: applied) }
        return scan
    }

    private static func compare(_ record: RecordHeaders, with applied: AppliedPosition) -> PositionReport.Finding {
        let sameCRC = applied.recordCRC.map { $0 == record.recordCRC } ?? true
        guard record.epoch == applied.epoch, sameCRC else {
            return PositionReport.Finding(
                ok: false,
                detail: "the tranlogs hold a different record at seqno \(record.seqno) (epoch \(record.epoch), CRC \(hex(record.recordCRC)), "
                    + "\(record.eventID)) than MANIFEST's (epoch \(applied.epoch)"
                    + (applied.recordCRC.map { ", CRC \(hex($0))" } ?? "") + "): they are of another timeline")
        }
        return PositionReport.Finding(ok: true, detail: "the same record (epoch \(record.epoch), CRC \(hex(record.recordCRC)), \(record.eventID))")
    }

    func coverage(after applied: Seqno) -> PositionReport.Finding {
        guard !files.isEmpty else {
            return .init(ok: false, detail: damage ?? "no tranlog files in \(directory): records after seqno \(applied) must come from a primary or archived logs")
        }
        guard let first = span.firstSeqno, let last = span.last?.seqno else {
            if let damage { return .init(ok: false, detail: "unreadable: \(damage)") }
            return .init(ok: applied == .zero, detail: "the tranlogs hold no records" + (applied == .zero ? " yet: nothing to replay" : " after seqno \(applied)"))
        }
        if first > applied.next {
            return .init(ok: false, detail: "gap: the tranlogs start at seqno \(first), so \(applied.next)…\(first.rawValue - 1) are missing")
        }
        if let damage {
            return .init(ok: false, detail: "readable only through seqno \(last): \(damage)")
        }
        if last < applied {
            return .init(ok: false, detail: "the tranlogs end at seqno \(last), before the applied seqno \(applied) (a standby's mirror restarting after it, or logs lost)")
        }
        if last == applied { return .init(ok: true, detail: "nothing after the applied position: the tranlogs end at it") }
        return .init(ok: true, detail: "\(applied.next)…\(last) without a gap (\(applied.distance(to: last)) records to replay)")
    }
}
