import Foundation
import Repository
import SystemPackage
import Tranlog
import Transport

/// Whether a standby is offline, a pending `offline --at-seqno`, and a paused apply, kept in
/// `DATA/standby.json` (replaced atomically) so a restart keeps them. Absent: online, applying. A
/// fresh copy put in place of the data directory has no such file, so it starts online.
struct StandbyControlState: Codable, Equatable, Sendable {
    var offline: StandbyOffline?
    var offlineAtSeqno: Seqno?
    /// Independent of offline: going offline or online keeps it; only resume and promote clear it.
    var paused: StandbyPause?
}

/// The state above, in memory and on disk; every change is durable before it is visible, except a
/// fault's (`updateEvenIfNotDurable`).
final class StandbyControlStore: Sendable {
    private let path: FilePath
    private let fileSystem: any TranlogFileSystem
    private let current: Locked<StandbyControlState>

    static func path(in directory: DataDirectory) -> FilePath { directory.standbyControlFile }

    init(directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(NodeError) {
        path = Self.path(in: directory)
        self.fileSystem = fileSystem
        var state = StandbyControlState()
        if fileSystem.fileExists(path) {
            do {
                state = try JSONDecoder().decode(StandbyControlState.self, from: Data(try fileSystem.readFile(path)))
            } catch {
                throw .invalidConfiguration(
                    "\(path) is unreadable or corrupt (\(error)); it says whether this standby was taken offline. "
                        + "Remove it to start the standby online, or put a fresh copy of the primary in place")
            }
        }
        current = Locked(state)
    }

    var state: StandbyControlState { current.withLock { $0 } }

    /// Applies `change` and makes the result durable; on a failed write nothing changes.
    @discardableResult
    func update(_ change: (inout StandbyControlState) -> Void) throws(RepositoryError) -> StandbyControlState {
        var next = state
        change(&next)
        guard next != state else { return next }
        try write(next)
        current.withLock { $0 = next }
        return next
    }

    /// Applies `change` at once, then tries to make it durable, for a fault: it must show (and block
    /// `online`) even when the disk that failed cannot record it, and a restart re-checks faults
    /// anyway. Throws the failed write; the change stays in memory.
    func updateEvenIfNotDurable(_ change: (inout StandbyControlState) -> Void) throws(RepositoryError) {
        var next = state
        change(&next)
        guard next != state else { return }
        current.withLock { $0 = next }
        try write(next)
    }

    private func write(_ next: StandbyControlState) throws(RepositoryError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Our own Codable types cannot fail to encode.
        let bytes = Array(try! encoder.encode(next)) + [0x0A]
        do {
            if next == StandbyControlState() {
                try Self.remove(path, fileSystem: fileSystem)
            } else {
                try fileSystem.replaceFile(path, contents: bytes[...])
            }
        } catch {
            throw .tranlog(error)
        }
    }

    /// Removes the state a standby left in a directory that is a primary now; true if there was one.
    /// A promote removes it right after its commit point, and a crash between the two leaves it:
    /// nothing in a primary reads it, but the directory should say what it is.
    static func removeLeftover(in directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(TranlogError) -> Bool {
        let path = path(in: directory)
        guard fileSystem.fileExists(path) else { return false }
        try remove(path, fileSystem: fileSystem)
        return true
    }

    private static func remove(_ path: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        if fileSystem.fileExists(path) { try fileSystem.removeFile(path) }
        try fileSystem.syncDirectory(path.removingLastComponent())
    }
}
