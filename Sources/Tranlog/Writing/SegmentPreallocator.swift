import Foundation
import SystemPackage

/// Prepares the writer's next tranlog file ahead of time on a thread of its own, off the commit
/// path: a file of `rotationBytes` zeros, synced, under a name no reader takes for a log
/// (`tranlogN.dbf.preallocated`). At rotation the writer writes the header into it and renames it
/// to `tranlogN.dbf`, so commits overwrite zeros instead of growing the file, and each commit's
/// `fdatasync` has no file size or block allocation to record (about half the cost on our disks).
///
/// A preparation that fails is reported at the rotation that needs the file, which then fails the
/// writer: the disk could not hold the next file anyway.
final class SegmentPreallocator: @unchecked Sendable {
    static let suffix = ".preallocated"
    /// Zeros written per call, so a segment never sits in memory whole.
    private static let chunkBytes = 1 << 20

    private let directory: FilePath
    private let segmentBytes: Int
    private let fileSystem: any TranlogFileSystem
    private let condition = NSCondition()

    // Guarded by `condition`. Appends run ahead of the flush thread, so the next file can be asked
    // for while the flush thread still waits for the one before it: requests queue up in order.
    private var requested: Set<FileID> = []
    private var queue: [FileID] = []
    private var outcomes: [FileID: Result<Void, TranlogError>] = [:]
    private var closing = false
    private var running = false

    init(directory: FilePath, segmentBytes: Int, fileSystem: any TranlogFileSystem) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.fileSystem = fileSystem
    }

    static func path(_ fileID: FileID, in directory: FilePath) -> FilePath {
        directory.appending(fileID.fileName + suffix)
    }

    /// Removes preallocated files a crash left behind: zeros whose preparation may not have
    /// finished, never a log. The writer calls this at open, before anything else runs.
    static func removeLeftovers(in directory: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        let leftovers = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".dbf" + suffix) }
        for name in leftovers { try fileSystem.removeFile(directory.appending(name)) }
        if !leftovers.isEmpty { try fileSystem.syncDirectory(directory) }
    }

    /// Starts preparing `fileID` in the background unless it is already asked for. Does no I/O, so
    /// the writer may call it under its lock.
    func request(_ fileID: FileID) {
        condition.locked {
            guard !closing, requested.insert(fileID).inserted else { return }
            queue.append(fileID)
            guard !running else { return }
            running = true
            Thread.start(named: "tranlog-prep") { self.prepareQueued() }
        }
    }

    /// Whether `fileID` is prepared, so that `take` returns at once. Does no I/O.
    func isPrepared(_ fileID: FileID) -> Bool {
        condition.locked {
            guard case .success? = outcomes[fileID] else { return false }
            return true
        }
    }

    /// The path of `fileID`'s prepared file, waiting for its preparation (started now if it never
    /// was: a rotation that came before the trigger, when one record filled a file).
    func take(_ fileID: FileID) throws(TranlogError) -> FilePath {
        request(fileID)
        let outcome = condition.locked {
            while outcomes[fileID] == nil { condition.wait() }
            requested.remove(fileID)
            return outcomes.removeValue(forKey: fileID)!
        }
        try outcome.get()
        return Self.path(fileID, in: directory)
    }

    /// Waits for the preparations asked for (usually none, at most the next file: finishing it keeps
    /// a close from leaving a half-written file behind, and its durable steps countable in crash
    /// tests); their files are removed at the next open. Called once the flush thread, the only
    /// caller of `take`, has stopped.
    func close() {
        condition.locked {
            closing = true
            while running { condition.wait() }
        }
    }

    /// The thread's body: prepares the queued files in order until none is left.
    private func prepareQueued() {
        while let fileID = condition.locked({ () -> FileID? in
            guard !queue.isEmpty else {
                running = false
                condition.broadcast()
                return nil
            }
            return queue.removeFirst()
        }) {
            let outcome = Result { () throws(TranlogError) in try prepare(fileID) }
            condition.locked {
                outcomes[fileID] = outcome
                condition.broadcast()
            }
        }
    }

    private func prepare(_ fileID: FileID) throws(TranlogError) {
        let path = Self.path(fileID, in: directory)
        if fileSystem.fileExists(path) { try fileSystem.removeFile(path) }
        let file = try fileSystem.createFile(path)
        do {
            let zeros = [UInt8](repeating: 0, count: Self.chunkBytes)
            var written = 0
            while written < segmentBytes {
                let count = min(Self.chunkBytes, segmentBytes - written)
                try file.append(zeros[..<count])
                written += count
            }
            try file.sync()
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
        try fileSystem.syncDirectory(directory)
    }
}
