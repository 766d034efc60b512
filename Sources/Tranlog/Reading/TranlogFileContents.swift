import SystemPackage

/// A tranlog file read into memory (decompressed if archived), its header decoded and checked.
public struct TranlogFileContents: Sendable {
    public var ref: TranlogFileRef
    public var header: FileHeader
    public var bytes: [UInt8]

    /// Reads a file. `nil` means the file is shorter than a header: a file whose creation was torn
    /// by a crash (only acceptable as the newest file, which the caller decides).
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
        if bytes.count < FileHeader.size && !ref.isCompressed { return nil }
        let header: FileHeader
        switch FileHeader.decode(bytes[...]) {
        case .success(let decoded): header = decoded
        case .failure(let defect): throw .corruptHeader(file: ref.path.string, defect: defect)
        }
        guard header.fileID == ref.fileID else { throw .misnamedFile(file: ref.path.string, headerFileID: header.fileID) }
        return TranlogFileContents(ref: ref, header: header, bytes: bytes)
    }
}
