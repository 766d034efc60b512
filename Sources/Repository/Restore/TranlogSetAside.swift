import SystemPackage
import Tranlog

/// Before a commitRestore opens a new epoch, the node's tranlog directory must end exactly at the
/// restored position: files beyond it belong to the abandoned timeline (or to another repository,
/// after restoring another repository's backup). They are moved into a subdirectory — never
/// deleted: they may be someone's only copy — and the file holding the restored record is cut back
/// to end with it when it also holds later records.
///
/// Every read error stops the operation and names the file: a file that cannot be read is never
/// taken for another repository's or for one that may be cut.
struct TranlogSetAside {
    let directory: DataDirectory
    let fileSystem: any TranlogFileSystem
    let repositoryID: RepositoryID

    init(directory: DataDirectory, fileSystem: any TranlogFileSystem, repositoryID: RepositoryID) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.repositoryID = repositoryID
    }

    /// The highest fileId the directory holds or the position names: the new epoch starts above it.
    func highestFileID(_ position: AppliedPosition) throws(RepositoryError) -> FileID {
        max(try scan().last?.fileID ?? FileID(0), position.eventID?.fileID ?? FileID(0))
    }

    /// Sets aside what follows `position`; returns the paths the files were moved to.
    ///
    /// Newest file first, each move durable before the next, and the restore point's file cut back
    /// last: a crash anywhere in between leaves an unbroken chain that simply ends earlier, which a
    /// restart in restore mode reads again as a standby's mirror. Cutting back first left the cut
    /// file followed by the later ones, a chain broken at its end; moving the oldest first left a gap.
    func clear(after position: AppliedPosition, into subdirectory: String) throws(RepositoryError) -> [String] {
        let restorePointFile = position.eventID?.fileID
        let aside = directory.tranlogs.appending(subdirectory)
        var moved: [String] = []
        var restorePointRef: TranlogFileRef?
        for ref in try scan().reversed() {
            let beyond = restorePointFile.map { ref.fileID > $0 } ?? true
            let ours = try belongsToRepository(ref)
            if beyond || !ours {
                moved.append(try move(ref, to: aside))
            } else if ref.fileID == restorePointFile {
                restorePointRef = ref
            }
        }
        if let restorePointRef { moved += try cutBack(restorePointRef, at: position, aside: aside) }
        return moved
    }

    /// Sets aside every tranlog of another repository (after restoring another repository's backup).
    func setAsideOtherRepositories(into subdirectory: String) throws(RepositoryError) -> [String] {
        var moved: [String] = []
        for ref in try scan() {
            guard try !belongsToRepository(ref) else { continue }
            moved.append(try move(ref, to: directory.tranlogs.appending(subdirectory)))
        }
        return moved
    }

    private func scan() throws(RepositoryError) -> [TranlogFileRef] {
        try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files }
    }

    /// Reads only the 128-byte header of a plain file (files run to 64 MiB and a promote must be
    /// quick); a compressed one is inflated whole. A header too short to read is a file a crash
    /// left before its header was synced: nothing in it, and nothing to keep it for.
    private func belongsToRepository(_ ref: TranlogFileRef) throws(RepositoryError) -> Bool {
        if ref.isCompressed {
            let contents = try tranlogCall { () throws(TranlogError) in try TranlogFileContents.load(ref, fileSystem: fileSystem) }
            return contents.map { $0.header.repositoryID == repositoryID } ?? false
        }
        let bytes = try tranlogCall { () throws(TranlogError) in try fileSystem.read(ref.path, at: 0, count: FileHeader.size) }
        switch FileHeader.decode(bytes[...]) {
        case .success(let header): return header.repositoryID == repositoryID
        case .failure where bytes.count < FileHeader.size: return false
        case .failure(let defect):
            throw .tranlog(.corruptHeader(file: ref.path.string, defect: defect))
        }
    }

    /// Whether a plain file ends exactly with the restored record, read from its event id (the usual
    /// case at a promote: the standby applied everything it had), without reading the whole file.
    private func endsWithRestoredRecord(_ ref: TranlogFileRef, _ position: AppliedPosition) throws(RepositoryError) -> Bool {
        guard !ref.isCompressed, let eventID = position.eventID, eventID.fileID == ref.fileID else { return false }
        let bytes = try tranlogCall { () throws(TranlogError) -> [UInt8]? in
            let size = try fileSystem.fileSize(ref.path)
            guard size > eventID.offset else { return nil }
            return try fileSystem.read(ref.path, at: eventID.offset, count: Int(size - eventID.offset))
        }
        guard let bytes, case .record(let record) = RecordFrame.decode(bytes[...]) else { return false }
        return record.header.seqno == position.seqno && record.crc == position.recordCRC && record.frame.count == bytes.count
    }

    /// Keeps the file if it ends with the restored record; otherwise sets a copy of it aside and,
    /// when the restored record is in it, replaces it with the prefix ending with that record.
    /// Damage after the restored record is the abandoned timeline's (it goes aside with the copy);
    /// damage before it stops the commit. Each step is atomic and durable, so the file is at every
    /// moment whole or cut back, never missing: moving it aside first and writing the prefix after
    /// would leave a crash in between without the restore point's file.
    private func cutBack(_ ref: TranlogFileRef, at position: AppliedPosition, aside: FilePath) throws(RepositoryError) -> [String] {
        if try endsWithRestoredRecord(ref, position) { return [] }
        var cursor = TranlogCursor(directory: TranlogDirectory(description: ref.path.string, files: [ref]), fileSystem: fileSystem)
        var restored: TranlogRecord?
        var later = false
        do {
            while let record = try cursor.next() {
                if record.seqno == position.seqno && record.crc == position.recordCRC { restored = record }
                if record.seqno > position.seqno { later = true }
            }
        } catch {
            guard restored != nil else { throw .tranlog(error) }
            later = true
        }
        if restored != nil && !later && cursor.tornTail == nil && !ref.isCompressed { return [] }
        guard let restored else { return [try move(ref, to: aside)] }
        let name = ref.path.lastComponent?.string ?? ref.fileID.fileName
        let plainPath = directory.tranlogs.appending(ref.fileID.fileName)
        try tranlogCall { () throws(TranlogError) in
            guard let contents = try TranlogFileContents.load(ref, fileSystem: fileSystem) else { return }
            try fileSystem.createDirectory(aside)
            try fileSystem.replaceFile(aside.appending(name), contents: try fileSystem.readFile(ref.path)[...])
            try fileSystem.replaceFile(plainPath, contents: contents.bytes[0..<(Int(restored.eventID.offset) + restored.frameLength)])
            if ref.path != plainPath {
                try fileSystem.removeFile(ref.path)
                try fileSystem.syncDirectory(directory.tranlogs)
            }
        }
        return [aside.appending(name).string]
    }

    /// Moves one file aside, durably in both directories before the caller goes on.
    private func move(_ ref: TranlogFileRef, to aside: FilePath) throws(RepositoryError) -> String {
        let name = ref.path.lastComponent?.string ?? ref.fileID.fileName
        try tranlogCall { () throws(TranlogError) in
            try fileSystem.createDirectory(aside)
            try fileSystem.rename(ref.path, to: aside.appending(name))
            try fileSystem.syncDirectory(aside)
            try fileSystem.syncDirectory(directory.tranlogs)
        }
        return aside.appending(name).string
    }
}
