import Tranlog

/// What `position set` is asked to store (Tungsten's `dsctl set -seqno -epoch -event-id -source-id`).
public struct PositionRequest: Hashable, Sendable {
    public var seqno: Seqno
    public var epoch: Epoch
    public var eventID: EventID?
    public var sourceID: SourceID?
    /// The record's CRC, from `tranlog find` on a node that holds it; needed when the local tranlogs don't.
    public var recordCRC: UInt32?
    /// Store it despite refusals (never without a known CRC).
    public var force: Bool

    public init(seqno: Seqno, epoch: Epoch, eventID: EventID? = nil, sourceID: SourceID? = nil, recordCRC: UInt32? = nil, force: Bool = false) {
        self.seqno = seqno
        self.epoch = epoch
        self.eventID = eventID
        self.sourceID = sourceID
        self.recordCRC = recordCRC
        self.force = force
    }
}

/// What `position set` stored.
public struct PositionChange: Hashable, Sendable, Encodable {
    public var previous: AppliedPosition
    public var stored: AppliedPosition
    /// The local record the position was completed from (event id, time, CRC), if it was local.
    public var localRecord: RecordHeaders?
    /// The refusals `--force` overrode.
    public var forced: [String]
    public var manifestGeneration: UInt64
    public var oldestFileIDNeeded: FileID
    /// What the operator must know before starting the node.
    public var notes: [String]
}

extension Repository {
    /// Rewrites the applied position MANIFEST stores (the external-backup procedure: the extents are
    /// known to reflect exactly through `request.seqno`). Objects are not touched, so a wrong position
    /// silently diverges the data from its history: positions contradicting the epoch history or the
    /// local tranlogs are refused unless forced. Only on a stopped node: the lock is taken.
    public static func setPosition(
        _ request: PositionRequest, in directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(PositionError) -> PositionChange {
        guard request.seqno > .zero else {
            throw .invalid("seqno 0 is the position of an empty repository, before its first record; give the seqno of the last record the data reflects")
        }
        let config: DataDirectoryConfig
        do { config = try directory.readConfig(fileSystem: fileSystem) } catch { throw .repository(error) }
        let lock: DirectoryLock
        do { lock = try DirectoryLock(directory, fileSystem: fileSystem) } catch {
            if case .locked(let path, let holder) = error { throw .nodeRunning(path: path, holder: holder) }
            throw .repository(error)
        }
        defer { lock.release() }
        do {
            var manifest = try Recovery.readManifest(directory, config: config, fileSystem: fileSystem)
            let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
            let restoring = try RestoreStateStore.read(directory, fileSystem: fileSystem).active
            let local = LocalRecordCheck(request, directory: directory, repositoryID: config.repositoryID, fileSystem: fileSystem)
            let refusals = PositionChecks.epochRefusals(request, history: history) + local.refusals
            if !refusals.isEmpty && !request.force { throw PositionError.refused(refusals) }
            let stored = try position(request, local: local, directory: directory)
            let previous = manifest.checkpoint
            manifest.checkpoint = stored
            manifest.generation += 1
            // Recovery replays from the file holding the position, which checks the record is there.
            if let record = local.agreeingRecord { manifest.oldestFileIDNeeded = record.eventID.fileID }
            try extentCall { () throws(ExtentError) in try ManifestStore.write(manifest, directory: directory.extents, fileSystem: fileSystem) }
            return PositionChange(
                previous: previous, stored: stored, localRecord: local.agreeingRecord, forced: refusals.map(\.description),
                manifestGeneration: manifest.generation, oldestFileIDNeeded: manifest.oldestFileIDNeeded,
                notes: notes(stored, local: local.agreeingRecord, restoring: restoring, directory: directory))
        } catch let error as PositionError {
            throw error
        } catch let error as RepositoryError {
            throw .repository(error)
        } catch {
            preconditionFailure("unexpected \(error)")
        }
    }

    /// From the local record when it agrees; else from the request, which must carry the CRC.
    private static func position(_ request: PositionRequest, local: LocalRecordCheck, directory: DataDirectory) throws(PositionError) -> AppliedPosition {
        if let record = local.agreeingRecord { return record.position }
        guard let crc = request.recordCRC else {
            let why = local.foundRecord
                ? "the local tranlogs hold another record at seqno \(request.seqno), which --force does not take as the position's"
                : "the record is not in the local tranlogs (\(directory.tranlogs.string))"
            throw .recordCRCUnknown(seqno: request.seqno, why: why)
        }
        return AppliedPosition(seqno: request.seqno, epoch: request.epoch, eventID: request.eventID, sourceID: request.sourceID, time: nil, recordCRC: crc)
    }

    private static func notes(_ stored: AppliedPosition, local: RecordHeaders?, restoring: Bool, directory: DataDirectory) -> [String] {
        var notes = ["objects were not changed: the extents must reflect exactly seqno \(stored.seqno), or the data diverges silently"]
        if !restoring && local == nil {
            notes.append(
                "\(directory.root.string) is not in restore mode and its tranlogs do not hold seqno \(stored.seqno): `understudy start` "
                    + "will refuse to start until they continue from it; start it as a standby (`understudy standby`), which takes "
                    + "seqno \(stored.seqno.next) on from its primary")
        }
        return notes
    }
}

/// The position checked against the epoch history.
enum PositionChecks {
    static func epochRefusals(_ request: PositionRequest, history: EpochHistory) -> [PositionRefusal] {
        guard let index = history.entries.firstIndex(where: { $0.epoch == request.epoch }) else {
            return [.epochNotInHistory(epoch: request.epoch, history: history.entries.map(\.epoch))]
        }
        let entry = history.entries[index]
        if entry.startSeqno > request.seqno {
            return [.epochStartsLater(epoch: request.epoch, startSeqno: entry.startSeqno, seqno: request.seqno)]
        }
        if let later = history.entries[(index + 1)...].first(where: { $0.startSeqno <= request.seqno }) {
            return [.laterEpochBegan(epoch: request.epoch, later: later, seqno: request.seqno)]
        }
        return []
    }
}
