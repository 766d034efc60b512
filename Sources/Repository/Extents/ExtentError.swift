import Tranlog

/// Where in an extent run damage was found.
public enum ExtentRegion: Hashable, Sendable, CustomStringConvertible {
    case header
    case footer
    case index
    /// Blocks are numbered from 0 in file order.
    case block(Int)

    public var description: String {
        switch self {
        case .header: return "header"
        case .footer: return "footer"
        case .index: return "index"
        case .block(let number): return "block \(number)"
        }
    }
}

/// Every way reading or writing extent runs and MANIFEST can fail. A damaged run is never read
/// around: the messages name the file, the region and byte offset, and the way back.
public enum ExtentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file does not start with the run magic: not an extent run at all.
    case notAnExtentRun(file: String)
    case unsupportedVersion(file: String, version: UInt16)
    case otherRepository(file: String, found: RepositoryID, expected: RepositoryID)
    /// The header's generation disagrees with the file name (a renamed or misplaced run).
    case misnamedRun(file: String, headerGeneration: UInt64)
    /// The header is intact but the file stops before its footer ends.
    case truncated(file: String, byteCount: Int)
    case corrupt(file: String, region: ExtentRegion, offset: Int, detail: String)
    case corruptManifest(file: String, detail: String)
    case unsupportedManifestVersion(file: String, version: Int)
    case io(TranlogError)

    public var description: String {
        switch self {
        case .notAnExtentRun(let file):
            return "\(file) is not an extent run (bad magic); \(Self.runRemedy)"
        case .unsupportedVersion(let file, let version):
            return "\(file) has extent format version \(version); this build reads version \(ExtentFormat.version). "
                + "Run the Understudy release that wrote it, or \(Self.remedy)"
        case .otherRepository(let file, let found, let expected):
            return "\(file) belongs to repository \(found), not \(expected): it is refused. "
                + "Check that the extents directory is this repository's; if it is, \(Self.remedy)"
        case .misnamedRun(let file, let headerGeneration):
            return "\(file): its header says generation \(headerGeneration), which does not match its name "
                + "(\(ExtentRunSummary.fileName(generation: headerGeneration))); \(Self.runRemedy)"
        case .truncated(let file, let byteCount):
            return "\(file) is truncated: it ends at byte \(byteCount), before its footer; \(Self.runRemedy)"
        case .corrupt(let file, let region, let offset, let detail):
            return "\(file): corrupt \(region) at byte offset \(offset): \(detail); \(Self.runRemedy)"
        case .corruptManifest(let file, let detail):
            return "\(file) is corrupt (\(detail)): refuse to start; restore the data directory from a backup"
        case .unsupportedManifestVersion(let file, let version):
            return "\(file) has manifest format version \(version); this build reads version \(ManifestStore.version): "
                + "refuse to start; run the Understudy release that wrote it, or restore the data directory from a backup"
        case .io(let error):
            return error.description
        }
    }

    private static let remedy = "restore from backup and replay tranlogs"
    private static let runRemedy = "the run cannot be trusted; \(remedy)"
}

/// Why a part of a run failed to decode, before the caller adds the file, region and offset.
struct ExtentDefect: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}
