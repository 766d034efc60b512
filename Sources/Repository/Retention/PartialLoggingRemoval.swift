import Tranlog

/// Which tranlogs a checkpoint removes in partial logging mode: those recovery no longer needs and
/// the archiver copied, except the ones a known standby still needs — up to `maxRetainedBytes` held
/// for standbys. Past the limit the oldest files go anyway, and each standby that needed them must be
/// re-seeded; recovery's and unarchived files always stay.
public struct PartialLoggingRemoval: Sendable {
    public var remove: [RetainedFile]
    /// Standbys whose needed file is removed: they will be refused with "logs removed".
    public var cutOff: [KnownStandby]

    public init(_ retention: TranlogRetention, maxRetainedBytes: UInt64?) {
        let replayNeeds = retention.recoveryNeeds ?? retention.restoreNeeds ?? .first
        let standbyNeeds = retention.standbys.map(\.neededFileID).min() ?? replayNeeds
        let alwaysKept = min(replayNeeds, retention.archiveNeeds ?? replayNeeds)
        var keepFrom = min(standbyNeeds, alwaysKept)
        if let maxRetainedBytes {
            // Give up the oldest files one at a time until what is held fits.
            for file in retention.files where file.fileID >= keepFrom && file.fileID < alwaysKept {
                guard retention.bytes(from: keepFrom) > maxRetainedBytes else { break }
                keepFrom = file.fileID.next
            }
        }
        let removed = retention.files.filter { $0.fileID < keepFrom }
        remove = removed
        cutOff = retention.standbys.filter { standby in
            !retention.hasLost(standby) && removed.contains { $0.fileID >= standby.neededFileID }
        }
    }
}
