import Foundation
import Tranlog

/// How far the archiver has copied the tranlogs (`--archive-dir`): a retention reason like recovery's
/// or a standby's. Until the archiver's first pass every file is needed, afterwards the files from
/// the oldest one not yet archived. Without an archive nothing is held back.
public final class ArchiveProgress: @unchecked Sendable {
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

    /// The first file not archived yet (it and every later one must stay); nil without an archive.
    var needsFrom: FileID? {
        lock.withLock { keptFrom }
    }
}

extension Repository {
    /// The tranlog file the writer appends to; nil in restore mode (no writer) or once closed.
    public var openTranlogFileID: FileID? {
        commitLock.withLock { writer?.currentFileID }
    }
}
