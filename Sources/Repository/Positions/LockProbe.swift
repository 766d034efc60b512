import Foundation
import Tranlog

/// Whether a live process holds a data directory's LOCK, found without keeping the lock: a flock is
/// tried and released at once. LOCK.pid alone cannot tell: a `cp -a` copy carries the pid of the
/// node it was copied from, which may well be alive, yet holds no lock on the copy.
public struct LockState: Hashable, Sendable, Codable {
    /// Nil when it could not be found out (the detail says why).
    public var heldByLiveProcess: Bool?
    /// What LOCK.pid says, if anything.
    public var pid: String?
    public var detail: String

    static func probe(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) -> LockState {
        let pid = (try? fileSystem.readFile(directory.pidFile))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        // Without LOCK (or a pid left by a holder) no process ever locked it: don't create the file.
        guard fileSystem.fileExists(directory.lockFile) || pid != nil else {
            return LockState(heldByLiveProcess: false, pid: pid, detail: "not locked (no LOCK file)")
        }
        do {
            guard let lock = try fileSystem.lockExclusively(directory.lockFile) else {
                return LockState(
                    heldByLiveProcess: true, pid: pid,
                    detail: "locked by a running process (\(pid.map { "pid \($0)" } ?? "pid unknown")): the figures may be moving; "
                        + "stop the node for a stable answer")
            }
            lock.unlock()
            let stale = pid.map { " (LOCK.pid names pid \($0): a node that has stopped, or the source of a copy)" } ?? ""
            return LockState(heldByLiveProcess: false, pid: pid, detail: "not locked" + stale)
        } catch {
            return LockState(heldByLiveProcess: nil, pid: pid, detail: "unknown: cannot try the lock (\(error))")
        }
    }
}
