import Tranlog

/// What `understudy tranlog purge` would do (Tungsten's `thl purge`): whole files only, oldest first,
/// through a fileId or as far as is safe. A requested file that something needs is refused with the
/// reasons; `--force` overrides a standby's or a restore's need, never recovery's.
public struct PurgePlan: Sendable {
    /// A file that stays, and who needs it.
    public struct Kept: Sendable {
        public var file: RetainedFile
        public var reasons: [RetentionReason]
    }

    public var remove: [RetainedFile]
    /// Files asked for (through `--through`) that must stay: with any, nothing is removed.
    public var refused: [Kept]
    /// Files removed only because of `--force`, with the needs it overrides.
    public var forced: [Kept]
    /// Without `--through`: the oldest file kept and why (nothing was asked past what is safe).
    public var keptFrom: Kept?

    public var bytes: UInt64 { remove.reduce(0) { $0 + $1.bytes } }

    /// Plans removal of the files through `through` (nil: every file nothing needs).
    public init(_ retention: TranlogRetention, through: FileID?, force: Bool) {
        let binding = retention.reasons.filter { !force || !$0.overridable }
        // Nothing binding (a standby's logs with --force): every file may go.
        let safeBelow = binding.map(\.firstFileID).min() ?? (retention.files.last?.fileID.next ?? .first)
        let candidates = retention.files.filter { through == nil || $0.fileID <= through! }
        remove = candidates.filter { $0.fileID < safeBelow }
        refused = candidates.filter { $0.fileID >= safeBelow }.map { Kept(file: $0, reasons: retention.reasons(keeping: $0.fileID).filter { binding.contains($0) }) }
        forced = force ? remove.compactMap { file in
            let overridden = retention.reasons(keeping: file.fileID)
            return overridden.isEmpty ? nil : Kept(file: file, reasons: overridden)
        } : []
        keptFrom = nil
        if through == nil {
            // Asking for "everything safe" is never refused: the first file kept says why it stays.
            keptFrom = refused.first
            refused = []
        } else if !refused.isEmpty {
            remove = []
            forced = []
        }
    }

    /// One line per refused file's reasons, for the refusal message (each reason once).
    public var refusalReasons: [RetentionReason] {
        var seen: [RetentionReason] = []
        for kept in refused { for reason in kept.reasons where !seen.contains(reason) { seen.append(reason) } }
        return seen
    }
}
