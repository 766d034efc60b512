import Tranlog

/// Which tranlogs a checkpoint removes in partial logging mode: those recovery no longer needs,
/// except the ones a known standby still needs — up to `maxRetainedBytes` held for standbys. Past
/// the limit the oldest files go anyway, and each standby that needed them must be re-seeded.
public struct PartialLoggingRemoval: Sendable {
    public var remove: [RetainedFile]
    /// Standbys whose needed file is removed: they will be refused with "logs removed".
    public var cutOff: [KnownStandby]

    public init(_ retention: TranlogRetention, maxRetainedBytes: UInt64?) {
        let standbyNeeds = retention.standbys.map(\.neededFileID).min() ?? retention.recoveryNeeds
        var keepFrom = min(standbyNeeds, retention.recoveryNeeds)
        if let maxRetainedBytes {
            // Give up the oldest files one at a time until what is held fits (recovery's files always stay).
            for file in retention.files where file.fileID >= keepFrom && file.fileID < retention.recoveryNeeds {
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
