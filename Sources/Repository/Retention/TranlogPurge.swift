import Logging
import SystemPackage
import Tranlog

/// What a purge did (or, as a dry run, would do): `understudy tranlog purge --json` and
/// `POST /admin/tranlogs/purge`.
public struct PurgeReport: Codable, Sendable {
    public var dryRun: Bool
    public var removed: [RetainedFile]
    public var bytes: UInt64
    /// The needs `--force` overrode, one line each.
    public var overridden: [String]
    /// Without `--through`: why the oldest file kept stays.
    public var keptBecause: [String]
    public var message: String
}

/// Carries out a `PurgePlan`: refuses it when it refuses anything, else removes the files oldest
/// first, each removal durable before the next, so a removal that was reported has happened for good.
enum TranlogPurge {
    static func run(
        _ plan: PurgePlan, through: FileID?, dryRun: Bool, tranlogs: FilePath, fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(RepositoryError) -> PurgeReport {
        if !plan.refused.isEmpty { throw .notAllowed(refusal(plan, through: through)) }
        var report = PurgeReport(
            dryRun: dryRun, removed: plan.remove, bytes: plan.bytes,
            overridden: unique(plan.forced.flatMap(\.reasons)).map(\.description),
            keptBecause: plan.keptFrom.map { kept in kept.reasons.map(\.description) } ?? [], message: "")
        let range = plan.remove.isEmpty ? "no tranlog" : "\(plan.remove.count) tranlog file(s) (\(plan.remove.first!.fileID.fileName)…\(plan.remove.last!.fileID.fileName), \(plan.bytes) bytes)"
        report.message = (dryRun ? "would remove " : "removed ") + range
        guard !dryRun, !plan.remove.isEmpty else { return report }
        try tranlogCall { () throws(TranlogError) in try removeOldestFirst(plan.remove, tranlogs: tranlogs, fileSystem: fileSystem) }
        for reason in report.overridden { logger.warning("tranlog purge forced past a need", metadata: ["need": "\(reason)"]) }
        logger.notice("tranlogs purged", metadata: ["files": "\(plan.remove.map(\.fileID.fileName))", "bytes": "\(plan.bytes)"])
        return report
    }

    /// Removes `files` oldest first, syncing the directory after each, and stops at the first
    /// failure: whatever a crash or an error interrupts, the files left are one run of fileIds, as
    /// a tranlog directory always is (with one sync at the end, a power loss could keep any subset
    /// of the removals, and `tranlog verify` would then find a gap among files nothing needs).
    static func removeOldestFirst(_ files: [RetainedFile], tranlogs: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        for file in files.sorted(by: { $0.fileID < $1.fileID }) {
            try fileSystem.removeFile(FilePath(file.path))
            try fileSystem.syncDirectory(tranlogs)
        }
    }

    private static func refusal(_ plan: PurgePlan, through: FileID?) -> String {
        let reasons = plan.refusalReasons
        let forceable = reasons.contains { $0.overridable }
        return "refusing to purge through \(through.map(\.fileName) ?? "?"): "
            + reasons.map(\.description).joined(separator: "; ")
            + ". Nothing was removed"
            + (forceable ? "; --force overrides a standby's or a restore's need (never recovery's)" : "")
    }

    private static func unique(_ reasons: [RetentionReason]) -> [RetentionReason] {
        reasons.reduce(into: []) { seen, reason in if !seen.contains(reason) { seen.append(reason) } }
    }
}

extension TranlogRetention {
    /// Every tranlog file in `tranlogs` with its size.
    static func scanFiles(_ tranlogs: FilePath, fileSystem: any TranlogFileSystem) throws(RepositoryError) -> [RetainedFile] {
        try tranlogCall { () throws(TranlogError) in
            try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.map { ref throws(TranlogError) in
                RetainedFile(fileID: ref.fileID, path: ref.path.string, bytes: try fileSystem.fileSize(ref.path))
            }
        }
    }
}
