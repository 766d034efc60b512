import SystemPackage

/// A tranlog file read into memory (decompressed if archived), its header decoded and checked.
public struct TranlogFileContents: Sendable {
    public var ref: TranlogFileRef
    public var header: FileHeader
    public var bytes: [UInt8]

    /// Reads a file. `nil` means the file holds no more than an invalid header: a file whose creation
    /// was torn by a crash before its header was synced (acceptable only as the newest file, which
    /// the caller decides). A file with records after a bad header is corrupt: the writer syncs the
    /// header before appending anything.
    public static func load(
        _ ref: TranlogFileRef, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) -> TranlogFileContents? {
        var bytes = try fileSystem.readFile(ref.path)
        if ref.isCompressed {
            switch Gzip.decompress(bytes) {
            case .success(let plain): bytes = plain
            case .failure(let problem): throw .unreadableArchive(file: ref.path.string, reason: problem.description)
            }
        }
        let header: FileHeader
        switch FileHeader.decode(bytes[...]) {
        case .success(let decoded): header = decoded
        case .failure where bytes.count <= FileHeader.size && !ref.isCompressed: return nil
        case .failure(let defect): throw .corruptHeader(file: ref.path.string, defect: defect)
        }
        guard header.fileID == ref.fileID else { throw .misnamedFile(file: ref.path.string, headerFileID: header.fileID) }
        return TranlogFileContents(ref: ref, header: header, bytes: bytes)
    }
}
