import SystemPackage

/// One tranlog file found on disk, plain or archived (`.gz`).
public struct TranlogFileRef: Hashable, Sendable {
    public var fileID: FileID
    public var path: FilePath
    public var isCompressed: Bool { path.string.hasSuffix(".gz") }

    public init(fileID: FileID, path: FilePath) {
        self.fileID = fileID
        self.path = path
    }
}

/// The tranlog files of one or more directories, in fileId order.
public struct TranlogDirectory: Sendable {
    /// The directories scanned, for messages.
    public var description: String
    public var files: [TranlogFileRef]

    /// A directory of exactly these files (a single file to inspect, a chosen range).
    public init(description: String, files: [TranlogFileRef]) {
        self.description = description
        self.files = files.sorted { $0.fileID < $1.fileID }
    }

    /// Scans directories for `tranlogN.dbf` and `tranlogN.dbf.gz`. Where one fileId is present more
    /// than once (a plain log next to its archived copy, or in two archive directories), the plain
    /// file wins over `.gz`, then the directory listed first.
    public static func scan(
        _ directories: [FilePath], fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(TranlogError) -> TranlogDirectory {
        var chosen: [FileID: TranlogFileRef] = [:]
        for directory in directories {
            for name in try fileSystem.contentsOfDirectory(directory) {
                guard let fileID = FileID(fileName: name) else { continue }
                let candidate = TranlogFileRef(fileID: fileID, path: directory.appending(name))
                if let existing = chosen[fileID], !existing.isCompressed || candidate.isCompressed { continue }
                chosen[fileID] = candidate
            }
        }
        return TranlogDirectory(
            description: directories.map(\.string).joined(separator: ", "),
            files: chosen.values.sorted { $0.fileID < $1.fileID })
    }

    public static func scan(
        _ directory: FilePath, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(TranlogError) -> TranlogDirectory {
        try scan([directory], fileSystem: fileSystem)
    }

    /// The files from `fileID` on.
    public func starting(at fileID: FileID) -> TranlogDirectory {
        TranlogDirectory(description: description, files: files.filter { $0.fileID >= fileID })
    }

    /// The files up to and including `fileID`.
    public func ending(at fileID: FileID) -> TranlogDirectory {
        TranlogDirectory(description: description, files: files.filter { $0.fileID <= fileID })
    }
}
