import Foundation
import Tranlog

/// Which tranlogs partial logging may remove. With an archive configured, a completed file may go
/// only once it is archived: until the archiver's first pass nothing may, afterwards only the files
/// below the oldest one not yet archived. Without an archive, whatever recovery no longer needs.
public final class TranlogRetention: @unchecked Sendable {
    private let lock = NSLock()
    /// Files from this one on are kept; nil: no archive holds them back.
    private var keptFrom: FileID?

    init(archiving: Bool) {
        keptFrom = archiving ? FileID(0) : nil
    }

    /// Called by the archiver after each pass: every file below `fileID` is archived.
    public func archived(below fileID: FileID) {
        lock.withLock { keptFrom = fileID }
    }

    /// Whether partial logging may remove `fileID`.
    func mayRemove(_ fileID: FileID) -> Bool {
        lock.withLock { keptFrom.map { fileID < $0 } ?? true }
    }
}

extension Repository {
    /// The tranlog file the writer appends to; nil in restore mode (no writer) or once closed.
    public var openTranlogFileID: FileID? {
        commitLock.withLock { writer?.currentFileID }
    }
}
