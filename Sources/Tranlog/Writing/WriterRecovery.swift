import SystemPackage

/// Opens an existing tranlog directory for appending: finds the newest file, verifies it, and cuts
/// off a torn tail (keeping a copy of it beside the file) so appends continue after the last whole
/// record.
enum WriterRecovery {
    /// The chain as the newest file leaves it.
    struct Resumed {
        var chain: ChainState
        var endedWithFileEnd: Bool
        var repaired: TornTail?
        /// The file goes on past its data with zeros (a preallocated segment, FORMATS).
        var hasZeroTail: Bool
    }

    /// Opens the newest file to continue it: over its zeros if it has a zero tail, else at its end.
    /// A file that ended with fileEnd is complete: a zero tail it kept (a crash before its rotation
    /// was synced) is cut off first, so completed files end at their data.
    static func openNewest(
        _ resumed: Resumed, configuration: TranlogWriterConfiguration, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) -> (any AppendableFile)? {
        let path = configuration.directory.appending(resumed.chain.fileID.fileName)
        guard !resumed.endedWithFileEnd else {
            try ZeroTail.cut(path, at: resumed.chain.fileSize, fileSystem: fileSystem)
            return nil
        }
        if resumed.hasZeroTail { return try fileSystem.openForOverwrite(path, at: resumed.chain.fileSize) }
        return try fileSystem.openForAppend(path)
    }

    static func resume(
        _ configuration: TranlogWriterConfiguration, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) -> Resumed? {
        try SegmentPreallocator.removeLeftovers(in: configuration.directory, fileSystem: fileSystem)
        let directory = try TranlogDirectory.scan(configuration.directory, fileSystem: fileSystem)
        guard let newest = directory.files.last else { return nil }
        guard !newest.isCompressed else {
            throw .sequenceBreak(
                file: newest.path.string, fileID: newest.fileID, offset: 0, seqno: .zero,
                detail: "the newest log is compressed; the writer appends only to a plain tranlogN.dbf")
        }
        var cursor = TranlogCursor(
            directory: TranlogDirectory(description: directory.description, files: [newest]), fileSystem: fileSystem,
            expectedRepository: configuration.repositoryID)
        var records = 0
        var lastKind: RecordKind?
        while let record = try cursor.next() {
            records += 1
            lastKind = record.header.kind
        }
        if let torn = cursor.tornTail {
            try preserveAndCut(torn, ref: newest, fileSystem: fileSystem)
            if torn.offset == 0 {
                // The newest file never got a whole header: resume from the file before it.
                return try resume(configuration, fileSystem: fileSystem).map { resumed in
                    var resumed = resumed
                    resumed.repaired = torn
                    return resumed
                }
            }
        }
        guard let header = cursor.currentHeader, let lastSeqno = cursor.lastSeqno, let lastCRC = cursor.lastCRC else {
            preconditionFailure("a cursor that read a whole header knows its chain")
        }
        let chain = ChainState(
            fileID: newest.fileID, epoch: header.epoch, fileSize: cursor.endOfLastRecord, recordsInFile: records,
            lastSeqno: lastSeqno, lastCRC: lastCRC)
        let hasZeroTail = try fileSystem.fileSize(newest.path) > cursor.endOfLastRecord
        return Resumed(chain: chain, endedWithFileEnd: lastKind == .fileEnd, repaired: cursor.tornTail, hasZeroTail: hasZeroTail)
    }

    /// Copies the damaged bytes to `tranlogN.dbf.torn-at-OFFSET` (durably) before cutting them off,
    /// so nothing is destroyed that an operator might want to look at.
    private static func preserveAndCut(
        _ torn: TornTail, ref: TranlogFileRef, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) {
        let contents = try fileSystem.readFile(ref.path)
        let copyPath = FilePath(ref.path.string + ".torn-at-\(torn.offset)")
        if fileSystem.fileExists(copyPath) { try fileSystem.removeFile(copyPath) }
        // Zeros after the damage are the unwritten rest of a preallocated segment, not worth keeping.
        // A file with no data at all (created, then the crash came before its header) keeps nothing.
        let dataEnd = contents.lastIndex { $0 != 0 }.map { $0 + 1 } ?? 0
        let damageEnd = max(Int(torn.offset), dataEnd)
        try fileSystem.writeNewFile(copyPath, contents: contents[Int(torn.offset)..<damageEnd])
        if torn.offset == 0 {
            try fileSystem.removeFile(ref.path)
            try fileSystem.syncDirectory(ref.path.removingLastComponent())
            return
        }
        let file = try fileSystem.openForAppend(ref.path)
        try file.truncate(to: torn.offset)
        try file.sync()
        try file.close()
    }
}
