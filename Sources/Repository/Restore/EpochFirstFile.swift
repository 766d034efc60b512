import Logging
import SystemPackage
import Tranlog

/// Completion of a committed `EpochCommit`: the epoch's first tranlog file with its epochBegin
/// record. Idempotent: a file a crash left without a durable epochBegin (a header only, a torn
/// record) held nothing else — commits are only accepted after the epochBegin is durable — and is
/// written again, identically; a complete one is kept with whatever followed it.
struct EpochFirstFile {
    let directory: DataDirectory
    let writerConfiguration: TranlogWriterConfiguration
    let fileSystem: any TranlogFileSystem
    let logger: Logger

    enum Found {
        case absent
        /// Created but its epochBegin never became durable.
        case incomplete(String)
        case complete(AppliedPosition)
    }

    init(directory: DataDirectory, config: DataDirectoryConfig, configuration: RepositoryConfiguration, fileSystem: any TranlogFileSystem, logger: Logger) {
        self.directory = directory
        writerConfiguration = configuration.writerConfiguration(directory, config)
        self.fileSystem = fileSystem
        self.logger = logger
    }

    enum Ensured {
        /// Written now: the writer is open after the epochBegin.
        case written(TranlogWriter, epochBegin: AppliedPosition)
        /// It was there already (with whatever followed it).
        case present(epochBegin: AppliedPosition)
    }

    /// Makes sure the file holds the durable epochBegin; returns a writer open after the file's last
    /// record, and the epochBegin's position.
    func open(_ commit: EpochCommit) throws(RepositoryError) -> (writer: TranlogWriter, epochBegin: AppliedPosition) {
        switch try ensure(commit) {
        case .written(let writer, let begin): return (writer, begin)
        case .present(let begin):
            return (try tranlogCall { () throws(TranlogError) in try TranlogWriter(configuration: writerConfiguration, fileSystem: fileSystem) }, begin)
        }
    }

    /// Writes the file unless its epochBegin is durable already.
    func ensure(_ commit: EpochCommit) throws(RepositoryError) -> Ensured {
        switch try find(commit) {
        case .complete(let begin):
            return .present(epochBegin: begin)
        case .incomplete(let why):
            logger.notice(
                "the first tranlog of epoch \(commit.epoch) was left incomplete by an interruption (\(why)); writing it again",
                metadata: ["tranlog.fileID": "\(commit.fileID)"])
            try tranlogCall { () throws(TranlogError) in
                try fileSystem.removeFile(path(commit))
                try fileSystem.syncDirectory(directory.tranlogs)
            }
        case .absent:
            break
        }
        let (writer, record) = try tranlogCall { () throws(TranlogError) in
            try TranlogWriter.beginningEpoch(
                commit.chainStart, parent: commit.parentEpoch, time: commit.time, configuration: writerConfiguration, fileSystem: fileSystem)
        }
        return .written(writer, epochBegin: AppliedPosition(
            seqno: record.seqno, epoch: record.epoch, eventID: record.eventID, sourceID: commit.sourceID, time: record.time, recordCRC: record.crc))
    }

    /// What the file holds. A read error is thrown, never taken for an incomplete file: only what
    /// was read and found short or torn is written again.
    func find(_ commit: EpochCommit) throws(RepositoryError) -> Found {
        let path = path(commit)
        guard fileSystem.fileExists(path) else { return .absent }
        let bytes = try tranlogCall { () throws(TranlogError) in
            try fileSystem.read(path, at: 0, count: Int(min(try fileSystem.fileSize(path), 64 * 1024)))
        }
        let header: FileHeader
        switch FileHeader.decode(bytes[...]) {
        case .failure(let defect): return .incomplete("its header is \(defect)")
        case .success(let decoded): header = decoded
        }
        guard header.repositoryID == writerConfiguration.repositoryID, header.epoch == commit.epoch,
            header.previousLastSeqno == commit.restoredTo.seqno, header.previousLastRecordCRC == (commit.restoredTo.recordCRC ?? 0)
        else { throw mismatch(commit, "its header is of epoch \(header.epoch), continuing seqno \(header.previousLastSeqno)") }
        switch RecordFrame.decode(bytes[FileHeader.size...]) {
        case .needMoreBytes: return .incomplete("its epochBegin record is missing or cut short")
        case .invalid(let defect): return .incomplete("its first record is torn (\(defect))")
        case .record(let record):
            guard case .epochBegin(let info) = record.body, info.epoch == commit.epoch, record.header.seqno == commit.seqno else {
                throw mismatch(commit, "its first record is a \(record.header.kind) at seqno \(record.header.seqno)")
            }
            return .complete(AppliedPosition(
                seqno: record.header.seqno, epoch: commit.epoch, eventID: EventID(fileID: commit.fileID, offset: UInt64(FileHeader.size)),
                sourceID: record.header.sourceID, time: record.header.time, recordCRC: record.crc))
        }
    }

    private func path(_ commit: EpochCommit) -> FilePath { directory.tranlogs.appending(commit.fileID.fileName) }

    private func mismatch(_ commit: EpochCommit, _ found: String) -> RepositoryError {
        .dataDirectory(
            path: directory.root.string,
            problem: "\(path(commit).string) should be the first tranlog of epoch \(commit.epoch), which the committed restore in "
                + "restore.json opens after seqno \(commit.restoredTo.seqno), but \(found). Something else wrote it: move it away "
                + "and start the node again")
    }
}
