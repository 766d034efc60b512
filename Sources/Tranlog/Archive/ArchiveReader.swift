import SystemPackage

/// Reads an `ArchiveLocation`: the files from a given one on, as a `TranlogDirectory` for the same
/// replay that reads any archive, which checks every file before it applies a record of it.
///
/// A command's files are fetched one after the other into `staging` (in the data directory) until
/// the first the command does not deliver: each under a temporary name, renamed to `tranlogN.dbf`
/// only once the command exited 0 and the file is there, so an interrupted fetch never looks like a
/// whole file. Fetched files stay until the replay has moved past them (it reads the file holding
/// its position again), so each is fetched once.
public struct ArchiveReader: Sendable {
    public let source: ArchiveLocation
    public let staging: FilePath
    public let fileSystem: any TranlogFileSystem

    public init(source: ArchiveLocation, staging: FilePath, fileSystem: any TranlogFileSystem) {
        self.source = source
        self.staging = staging
        self.fileSystem = fileSystem
    }

    /// The archived files from `start` on (the run may have gaps in a directory; a command's stops at
    /// the first file it does not deliver), and what it means to the reader.
    public func files(from start: FileID) throws(TranlogError) -> TranlogDirectory {
        switch source {
        case .directory(let path):
            return try TranlogDirectory.scan(path, fileSystem: fileSystem).starting(at: start)
        case .command(let command):
            try fetch(command, from: start)
            return TranlogDirectory(description: command.template, files: try stagedFiles().filter { $0.fileID >= start })
        }
    }

    private func fetch(_ command: ArchiveCommand, from start: FileID) throws(TranlogError) {
        try fileSystem.createDirectory(staging)
        try removeStaged(below: start)
        var fileID = start
        while true {
            let final = staging.appending(fileID.fileName)
            if !fileSystem.fileExists(final) {
                let temporary = staging.appending(fileID.fileName + ".fetch")
                if fileSystem.fileExists(temporary) { try fileSystem.removeFile(temporary) }
                // A failure is the archive not holding the file (yet): what was fetched is the run.
                do { try command.run(path: temporary, fileName: fileID.fileName) } catch { return }
                guard fileSystem.fileExists(temporary) else {
                    throw .archiveCommandFailed(file: fileID.fileName, command: command.template, outcome: "it exited 0 but wrote no file at %p")
                }
                try fileSystem.rename(temporary, to: final)
            }
            fileID = fileID.next
        }
    }

    private func stagedFiles() throws(TranlogError) -> [TranlogFileRef] {
        try fileSystem.contentsOfDirectory(staging).compactMap { name in
            name.hasSuffix(".dbf") ? FileID(fileName: name).map { TranlogFileRef(fileID: $0, path: staging.appending(name)) } : nil
        }.sorted { $0.fileID < $1.fileID }
    }

    /// Files the replay has moved past, and temporary names of interrupted fetches.
    private func removeStaged(below start: FileID) throws(TranlogError) {
        for name in try fileSystem.contentsOfDirectory(staging) {
            let done = name.hasSuffix(".dbf") && (FileID(fileName: name).map { $0 < start } ?? false)
            if done || name.hasSuffix(".dbf.fetch") { try fileSystem.removeFile(staging.appending(name)) }
        }
    }
}
