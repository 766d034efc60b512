import Repository
import SystemPackage

/// The body of `POST /admin/backup/full` (the manual's fullBackupTo:MBytes: family):
///
///     {"files": ["/backups/a", "/backups/b"], "mbytes": [100, 200] | 100, "compress": true, "label": "nightly"}
///
/// Files are paths on the node's machine, absolute. `mbytes` as one number limits every file but the
/// last; as a list, file N gets entry N (fewer entries than files: the rest are unlimited). The last
/// file is always unlimited, so a backup never runs out of targets; 0 or absent means unlimited.
public struct FullBackupRequest: Codable, Sendable {
    public var files: [String]
    public var mbytes: BackupSizeLimits?
    public var compress: Bool
    public var label: String?

    public init(files: [String], mbytes: BackupSizeLimits? = nil, compress: Bool = false, label: String? = nil) {
        self.files = files
        self.mbytes = mbytes
        self.compress = compress
        self.label = label
    }

    private enum CodingKeys: String, CodingKey { case files, mbytes, compress, label }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        files = try container.decode([String].self, forKey: .files)
        mbytes = try container.decodeIfPresent(BackupSizeLimits.self, forKey: .mbytes)
        compress = try container.decodeIfPresent(Bool.self, forKey: .compress) ?? false
        label = try container.decodeIfPresent(String.self, forKey: .label)
    }

    /// The files with their limits. An empty name is left for the repository to refuse (it names the
    /// target); a relative path is refused here, since it would be relative to the node's directory.
    func targets() throws(APIError) -> [BackupTarget] {
        let paths = try AdminPaths.require(files, field: "files", allowEmptyNames: true)
        if case .perFile(let limits) = mbytes, limits.count > files.count {
            throw .badRequest("invalid mbytes", "mbytes: \(limits.count) limits for \(files.count) files; give at most one per file")
        }
        return try paths.indices.map { (index) throws(APIError) in
            BackupTarget(path: paths[index], limitBytes: index == paths.count - 1 ? nil : try limitBytes(ofFile: index))
        }
    }

    private func limitBytes(ofFile index: Int) throws(APIError) -> UInt64? {
        let mbytes: UInt64? = switch self.mbytes {
        case nil: nil
        case .everyFile(let limit): limit
        case .perFile(let limits): index < limits.count ? limits[index] : nil
        }
        guard let mbytes, mbytes > 0 else { return nil }
        guard mbytes <= UInt64.max >> 20 else { throw .badRequest("invalid mbytes", "mbytes: \(mbytes) MiB is more than any file can hold") }
        return mbytes << 20
    }
}

/// `"mbytes": 100` (every file but the last) or `"mbytes": [100, 200]` (per file).
public enum BackupSizeLimits: Codable, Hashable, Sendable {
    case everyFile(UInt64)
    case perFile([UInt64])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let limit = try? container.decode(UInt64.self) {
            self = .everyFile(limit)
        } else {
            self = .perFile(try container.decode([UInt64].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .everyFile(let limit): try container.encode(limit)
        case .perFile(let limits): try container.encode(limits)
        }
    }
}

/// The body of `POST /admin/checkpoints/suspend`: `{"minutes": 15}`.
public struct CheckpointSuspendRequest: Codable, Sendable {
    public var minutes: UInt64

    public init(minutes: UInt64) { self.minutes = minutes }

    /// A year bounds the duration: longer is a typo, and would overflow a `Duration` soon after.
    static let maxMinutes: UInt64 = 366 * 24 * 60

    func duration() throws(APIError) -> Duration {
        guard (1...Self.maxMinutes).contains(minutes) else {
            throw .badRequest("invalid minutes", "minutes: \(minutes) is not from 1 to \(Self.maxMinutes)")
        }
        return .seconds(minutes * 60)
    }
}

/// `POST /admin/checkpoints/resume`: whether checkpoints were still suspended when resumed. False
/// means the suspension lapsed, and a file copy taken meanwhile is not a usable backup.
public struct CheckpointResumeReply: Codable, Hashable, Sendable {
    public var wereStillSuspended: Bool

    public init(wereStillSuspended: Bool) { self.wereStillSuspended = wereStillSuspended }
}

/// Paths named in admin requests: absolute, since a node's working directory is nobody's business.
enum AdminPaths {
    static func require(_ paths: [String], field: String, allowEmptyNames: Bool = false) throws(APIError) -> [FilePath] {
        guard !paths.isEmpty else { throw .badRequest("invalid \(field)", "\(field): at least one path is needed") }
        for (index, path) in paths.enumerated() where !path.hasPrefix("/") && !(allowEmptyNames && path.isEmpty) {
            throw .badRequest(
                "invalid \(field)", "\(field)[\(index)]: '\(path)' is not an absolute path; paths are on the node's machine, from /")
        }
        return paths.map { FilePath($0) }
    }
}
