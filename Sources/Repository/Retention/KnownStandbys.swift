import Foundation
import Logging
import Tranlog

/// The live set of known standbys, backed by `standbys.json`. Acks arrive several times a second per
/// standby, so a change of positions only is written at most once per `minimumWriteInterval`
/// (`flush()` writes what is pending); a new standby or a change of the file it needs is written at
/// once, because that is what retention decides by. A stale file is only ever conservative: the
/// needed fileId never decreases, so a crash can make the primary keep too much, never too little.
public final class KnownStandbys: @unchecked Sendable {
    private let directory: DataDirectory
    private let fileSystem: any TranlogFileSystem
    private let minimumWriteInterval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    /// Guards the fields below, never across a write: a primary's loop reads `all` for its status.
    private let lock = NSLock()
    private var standbys: [String: KnownStandby]
    private var lastWrite: ContinuousClock.Instant?
    private var pending = false
    /// Held across each write of the file, so writes land in the order they took the list.
    private let writing = NSLock()

    /// Reads `standbys.json` (none yet: no standbys).
    public init(
        directory: DataDirectory, fileSystem: any TranlogFileSystem, minimumWriteInterval: Duration = .seconds(1),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) throws(RepositoryError) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.minimumWriteInterval = minimumWriteInterval
        self.now = now
        standbys = Dictionary(try KnownStandbysFile.read(directory, fileSystem: fileSystem).map { ($0.nodeID, $0) }) { _, last in last }
    }

    /// Every known standby, by node id. Never waits for the file to be written.
    public var all: [KnownStandby] {
        lock.withLock { standbys.values.sorted { $0.nodeID < $1.nodeID } }
    }

    /// Records a standby's progress (admission or ack). Returns whether the file was written now.
    @discardableResult
    public func record(_ standby: KnownStandby) throws(RepositoryError) -> Bool {
        let writesNow = lock.withLock {
            let previous = standbys[standby.nodeID]
            standbys[standby.nodeID] = standby
            let urgent = previous?.neededFileID != standby.neededFileID
            let due = lastWrite.map { now() - $0 >= minimumWriteInterval } ?? true
            pending = true
            return urgent || due
        }
        if writesNow { try write() }
        return writesNow
    }

    /// Writes positions held back by the throttle, if any.
    public func flush() throws(RepositoryError) {
        if lock.withLock({ pending }) { try write() }
    }

    /// Forgets a decommissioned standby: its logs are no longer kept. Nil when it was not known.
    public func forget(_ nodeID: String) throws(RepositoryError) -> KnownStandby? {
        let forgotten = lock.withLock {
            let removed = standbys.removeValue(forKey: nodeID)
            if removed != nil { pending = true }
            return removed
        }
        guard let forgotten else { return nil }
        try write()
        return forgotten
    }

    /// Writes the list as it stands when this write's turn comes; a failed write leaves it pending.
    private func write() throws(RepositoryError) {
        try writing.locked { () throws(RepositoryError) in
            let list = lock.withLock {
                pending = false
                lastWrite = now()
                return Array(standbys.values)
            }
            do throws(RepositoryError) { try KnownStandbysFile.write(list, directory, fileSystem: fileSystem) } catch {
                lock.withLock { pending = true }
                throw error
            }
        }
    }
}
