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
    private let lock = NSLock()
    private var standbys: [String: KnownStandby]
    private var lastWrite: ContinuousClock.Instant?
    private var pending = false

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

    /// Every known standby, by node id.
    public var all: [KnownStandby] {
        lock.withLock { standbys.values.sorted { $0.nodeID < $1.nodeID } }
    }

    /// Records a standby's progress (admission or ack). Returns whether the file was written now.
    @discardableResult
    public func record(_ standby: KnownStandby) throws(RepositoryError) -> Bool {
        try lock.locked { () throws(RepositoryError) in
            let previous = standbys[standby.nodeID]
            standbys[standby.nodeID] = standby
            let urgent = previous?.neededFileID != standby.neededFileID
            let due = lastWrite.map { now() - $0 >= minimumWriteInterval } ?? true
            guard urgent || due else {
                pending = true
                return false
            }
            try writeLocked()
            return true
        }
    }

    /// Writes positions held back by the throttle, if any.
    public func flush() throws(RepositoryError) {
        try lock.locked { () throws(RepositoryError) in
            if pending { try writeLocked() }
        }
    }

    /// Forgets a decommissioned standby: its logs are no longer kept. Nil when it was not known.
    public func forget(_ nodeID: String) throws(RepositoryError) -> KnownStandby? {
        try lock.locked { () throws(RepositoryError) in
            guard let forgotten = standbys.removeValue(forKey: nodeID) else { return nil }
            try writeLocked()
            return forgotten
        }
    }

    private func writeLocked() throws(RepositoryError) {
        try KnownStandbysFile.write(Array(standbys.values), directory, fileSystem: fileSystem)
        lastWrite = now()
        pending = false
    }
}
