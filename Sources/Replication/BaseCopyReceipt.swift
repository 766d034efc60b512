import SystemPackage
import Tranlog

/// What a standby holds of a base copy, kept across its attempts: the pin being copied and every
/// byte received of its files, written straight into their final place in `directory` (the data
/// directory being built) — there is no second pass. A cut copy resumes from here when the primary
/// still holds the pin; otherwise `reset` empties the directory for a new copy.
///
/// Touched only on the client's writer queue, one job at a time (its owner reads it between attempts).
public final class BaseCopyReceipt: @unchecked Sendable {
    public let directory: FilePath
    private let fileSystem: any TranlogFileSystem
    /// The pin's list, once a start arrived.
    public private(set) var start: BaseCopyStart?
    private var digests: [BaseCopyDigest] = []
    private var open: (index: Int, file: any AppendableFile)?

    public init(directory: FilePath, fileSystem: any TranlogFileSystem) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    /// Bytes held of each file of `start`'s list.
    public var held: [UInt64] { digests.map(\.byteCount) }

    /// What a reconnecting standby asks to resume; nil before any start.
    var resume: BaseCopyResume? { start.map { BaseCopyResume(pinID: $0.pinID, held: held) } }

    /// Whether `start` continues the copy held here (same pin, same files).
    func continues(_ start: BaseCopyStart) -> Bool {
        self.start == start
    }

    /// Empties `directory` and begins `start`'s copy: its directories and empty files are made at once.
    func reset(to start: BaseCopyStart) throws(BaseCopyFailure) {
        try closeOpen()
        try storage(directory.string) { () throws(TranlogError) in
            if fileSystem.fileExists(directory) { try fileSystem.removeTree(directory) }
            try fileSystem.createDirectory(directory)
        }
        self.start = start
        digests = Array(repeating: BaseCopyDigest(), count: start.files.count)
        for directory in Self.directories(of: start.files) {
            try storage(directory) { () throws(TranlogError) in try fileSystem.createDirectory(self.directory.appending(directory)) }
        }
        for file in start.files where file.size == 0 {
            try storage(file.path) { () throws(TranlogError) in try fileSystem.createFile(path(file), ownerOnly: true).close() }
        }
    }

    /// Appends a chunk (its CRC checked by the client) to its file; a file is synced and closed once whole.
    func append(_ chunk: BaseCopyChunk) throws(BaseCopyFailure) {
        guard let file = start?.files[Int(chunk.file)] else { preconditionFailure("a chunk before the start") }
        let index = Int(chunk.file)
        if open?.index != index {
            try closeOpen()
            let fresh = digests[index].byteCount == 0
            open = (index, try storage(file.path) { () throws(TranlogError) in
                fresh ? try fileSystem.createFile(path(file), ownerOnly: true) : try fileSystem.openForAppend(path(file))
            })
        }
        try storage(file.path) { () throws(TranlogError) in try open!.file.append(chunk.bytes[...]) }
        digests[index].update(chunk.bytes)
        if digests[index].byteCount == file.size { try closeOpen() }
    }

    /// Syncs what is open and every directory: the copy is durable. Returns each file's SHA-256.
    func finish() throws(BaseCopyFailure) -> [[UInt8]] {
        try closeOpen()
        let files = start?.files ?? []
        for directory in Self.directories(of: files).reversed() {
            try storage(directory) { () throws(TranlogError) in try fileSystem.syncDirectory(self.directory.appending(directory)) }
        }
        try storage(directory.string) { () throws(TranlogError) in try fileSystem.syncDirectory(directory) }
        return digests.map { $0.finalize() }
    }

    /// Closes (syncing) the file being written, if any: a cut copy keeps what it received.
    func closeOpen() throws(BaseCopyFailure) {
        guard let (index, file) = open else { return }
        open = nil
        let path = start?.files[index].path ?? "?"
        try storage(path) { () throws(TranlogError) in
            try file.sync()
            try file.close()
        }
    }

    private func path(_ file: BaseCopyFile) -> FilePath {
        directory.appending(file.path)
    }

    /// The directories the files sit in below `directory`, parents first.
    private static func directories(of files: [BaseCopyFile]) -> [String] {
        var seen: Set<String> = []
        var ordered: [String] = []
        for file in files {
            var components = file.path.split(separator: "/").dropLast().map(String.init)
            var prefixes: [String] = []
            while !components.isEmpty {
                prefixes.insert(components.joined(separator: "/"), at: 0)
                components.removeLast()
            }
            for prefix in prefixes where seen.insert(prefix).inserted { ordered.append(prefix) }
        }
        return ordered
    }

    private func storage<Value>(_ path: String, _ body: () throws(TranlogError) -> Value) throws(BaseCopyFailure) -> Value {
        do { return try body() } catch { throw .storage("\(directory.appending(path)): \(error)") }
    }
}
