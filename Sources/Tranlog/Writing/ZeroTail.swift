import SystemPackage

/// Cuts the zero tail of a preallocated file (FORMATS 1.5, 1.7) where the file stops being the
/// newest: only the newest file may have one. A file copied from a running primary (an online
/// snapshot) keeps the zero tail it had there, so whatever adds a file after it cuts it first.
public enum ZeroTail {
    /// Truncates `path` to `dataEnd` (the end of its last record) and syncs, if it is longer.
    public static func cut(_ path: FilePath, at dataEnd: UInt64, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        guard try fileSystem.fileSize(path) > dataEnd else { return }
        let file = try fileSystem.openForAppend(path)
        try file.truncate(to: dataEnd)
        try file.sync()
        try file.close()
    }

    /// `cut` for the newest file of `directory`, finding where its data ends. A file whose last byte
    /// is not zero has no zero tail and is not read.
    static func cutNewest(in directory: FilePath, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        guard let newest = try TranlogDirectory.scan(directory, fileSystem: fileSystem).files.last, !newest.isCompressed else { return }
        let size = try fileSystem.fileSize(newest.path)
        guard size > UInt64(FileHeader.size), try fileSystem.read(newest.path, at: size - 1, count: 1) == [0] else { return }
        var cursor = TranlogCursor(
            directory: TranlogDirectory(description: directory.string, files: [newest]), fileSystem: fileSystem, expectedRepository: repositoryID)
        while try cursor.next() != nil {}
        guard cursor.tornTail == nil else { return }
        try cut(newest.path, at: cursor.endOfLastRecord, fileSystem: fileSystem)
    }
}
