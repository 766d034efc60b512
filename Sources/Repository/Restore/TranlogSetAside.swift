import SystemPackage
import Tranlog

/// Before a commitRestore opens a new epoch, the node's tranlog directory must end exactly at the
/// restored position: files beyond it belong to the abandoned timeline (or to another repository,
/// after restoring another repository's backup). They are moved into a subdirectory — never
/// deleted: they may be someone's only copy — and the file holding the restored record is cut back
/// to end with it when it also holds later records.
struct TranlogSetAside {
    let directory: DataDirectory
    let fileSystem: any TranlogFileSystem
    let repositoryID: RepositoryID

    struct Outcome {
        var moved: [String] = []
        /// The highest fileId the directory held (or the position names): the new epoch starts above it.
        var highestFileID: FileID
    }

    init(directory: DataDirectory, fileSystem: any TranlogFileSystem, repositoryID: RepositoryID) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.repositoryID = repositoryID
    }

    func clear(after position: AppliedPosition, into subdirectory: String) throws(RepositoryError) -> Outcome {
        let refs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files }
        let restorePointFile = position.eventID?.fileID
        var outcome = Outcome(highestFileID: max(refs.last?.fileID ?? FileID(0), restorePointFile ?? FileID(0)))
        let aside = directory.tranlogs.appending(subdirectory)
        for ref in refs {
            let beyond = restorePointFile.map { ref.fileID > $0 } ?? true
            if beyond || !belongsToRepository(ref) {
                try move(ref, to: aside, &outcome)
            } else if ref.fileID == restorePointFile {
                try cutBack(ref, at: position, aside: aside, &outcome)
            }
        }
        if !outcome.moved.isEmpty {
            try tranlogCall { () throws(TranlogError) in
                try fileSystem.syncDirectory(aside)
                try fileSystem.syncDirectory(directory.tranlogs)
            }
        }
        return outcome
    }

    /// Sets aside every tranlog of another repository (after restoring another repository's backup).
    func setAsideOtherRepositories(into subdirectory: String) throws(RepositoryError) -> Outcome {
        let refs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files }
        var outcome = Outcome(highestFileID: refs.last?.fileID ?? FileID(0))
        for ref in refs where !belongsToRepository(ref) {
            try move(ref, to: directory.tranlogs.appending(subdirectory), &outcome)
        }
        return outcome
    }

    /// Reads only the 128-byte header of a plain file (files run to 64 MiB and a promote must be
    /// quick); a compressed one is inflated whole.
    private func belongsToRepository(_ ref: TranlogFileRef) -> Bool {
        guard !ref.isCompressed else {
            return (try? TranlogFileContents.load(ref, fileSystem: fileSystem))??.header.repositoryID == repositoryID
        }
        guard let bytes = try? fileSystem.read(ref.path, at: 0, count: FileHeader.size),
              case .success(let header) = FileHeader.decode(bytes[...])
        else { return false }
        return header.repositoryID == repositoryID
    }

    /// Whether a plain file ends exactly with the restored record, read from its event id (the usual
    /// case at a promote: the standby applied everything it had), without reading the whole file.
    private func endsWithRestoredRecord(_ ref: TranlogFileRef, _ position: AppliedPosition) -> Bool {
        guard !ref.isCompressed, let eventID = position.eventID, eventID.fileID == ref.fileID,
              let size = try? fileSystem.fileSize(ref.path), size > eventID.offset,
              let bytes = try? fileSystem.read(ref.path, at: eventID.offset, count: Int(size - eventID.offset)),
              case .record(let record) = RecordFrame.decode(bytes[...])
        else { return false }
        return record.header.seqno == position.seqno && record.crc == position.recordCRC && record.frame.count == bytes.count
    }

    /// Keeps the file if it ends with the restored record; otherwise sets it aside and, when the
    /// restored record is in it, writes back the prefix ending with that record.
    private func cutBack(_ ref: TranlogFileRef, at position: AppliedPosition, aside: FilePath, _ outcome: inout Outcome) throws(RepositoryError) {
        if endsWithRestoredRecord(ref, position) { return }
        var cursor = TranlogCursor(directory: TranlogDirectory(description: ref.path.string, files: [ref]), fileSystem: fileSystem)
        var restored: TranlogRecord?
        var later = false
        while let record = try? cursor.next() {
            if record.seqno == position.seqno && record.crc == position.recordCRC { restored = record }
            if record.seqno > position.seqno { later = true }
        }
        if restored != nil && !later && cursor.tornTail == nil && !ref.isCompressed { return }
        let bytes = try tranlogCall { () throws(TranlogError) in try TranlogFileContents.load(ref, fileSystem: fileSystem)?.bytes }
        try move(ref, to: aside, &outcome)
        guard let restored, let bytes else { return }
        let end = Int(restored.eventID.offset) + restored.frameLength
        try tranlogCall { () throws(TranlogError) in
            try fileSystem.writeNewFile(directory.tranlogs.appending(ref.fileID.fileName), contents: bytes[0..<end])
        }
    }

    private func move(_ ref: TranlogFileRef, to aside: FilePath, _ outcome: inout Outcome) throws(RepositoryError) {
        guard let name = ref.path.lastComponent?.string else { return }
        try tranlogCall { () throws(TranlogError) in
            try fileSystem.createDirectory(aside)
            try fileSystem.rename(ref.path, to: aside.appending(name))
        }
        outcome.moved.append(aside.appending(name).string)
    }
}
