import Repository
import SystemPackage
import Tranlog

/// The body of `POST /admin/restore/backup`: `{"files": ["/backups/a", "/backups/b"]}`, every file of
/// one backup in the order written.
public struct RestoreBackupRequest: Codable, Sendable {
    public var files: [String]

    public init(files: [String]) { self.files = files }

    func paths() throws(APIError) -> [FilePath] {
        try AdminPaths.require(files, field: "files")
    }
}

/// The body of `POST /admin/restore/logs` (the manual's restoreFromCurrentLogs, restoreFromArchiveLogs:,
/// restoreToEndOfLog:, restoreToPointInTime:):
///
///     {"archive": ["/archive"] | "restoreCommand": "CMD", "toEndOfLog": 15 | "toTime": "2026-11-22T03:12:58Z" | "toSeqno": 120, "dryRun": true}
///
/// Without `archive` or `restoreCommand` the node's own `tranlogs/` are read; without a target, every record there is.
public struct LogRestoreRequest: Codable, Sendable {
    public var archive: [String]?
    /// Fetches each archived tranlog (`%f`) into `%p`, from the file holding the restored position on.
    public var restoreCommand: String?
    public var toEndOfLog: UInt64?
    public var toTime: String?
    public var toSeqno: UInt64?
    public var dryRun: Bool

    public init(archive: [String]? = nil, restoreCommand: String? = nil, target: RestoreTarget = .endOfLogs, dryRun: Bool = false) {
        self.archive = archive
        self.restoreCommand = restoreCommand
        self.dryRun = dryRun
        switch target {
        case .endOfLogs: break
        case .endOfFile(let fileID): toEndOfLog = fileID.rawValue
        case .time(let time): toTime = time.iso8601
        case .seqno(let seqno): toSeqno = seqno.rawValue
        }
    }

    private enum CodingKeys: String, CodingKey { case archive, restoreCommand, toEndOfLog, toTime, toSeqno, dryRun }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        archive = try container.decodeIfPresent([String].self, forKey: .archive)
        restoreCommand = try container.decodeIfPresent(String.self, forKey: .restoreCommand)
        toEndOfLog = try container.decodeIfPresent(UInt64.self, forKey: .toEndOfLog)
        toTime = try container.decodeIfPresent(String.self, forKey: .toTime)
        toSeqno = try container.decodeIfPresent(UInt64.self, forKey: .toSeqno)
        dryRun = try container.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
    }

    /// The log directories to read; nil for the node's own.
    func sources() throws(APIError) -> [FilePath]? {
        guard let archive else { return nil }
        if restoreCommand != nil { throw .badRequest("invalid archive", "archive, restoreCommand: give at most one of them") }
        return try AdminPaths.require(archive, field: "archive")
    }

    func target() throws(APIError) -> RestoreTarget {
        switch (toEndOfLog, toTime, toSeqno) {
        case (nil, nil, nil):
            return .endOfLogs
        case (let fileID?, nil, nil):
            return .endOfFile(FileID(fileID))
        case (nil, let text?, nil):
            guard let time = Timestamp(iso8601: text) else {
                throw .badRequest("invalid toTime", "toTime: '\(text)' is not an ISO 8601 time such as 2026-11-22T03:12:58Z")
            }
            return .time(time)
        case (nil, nil, let seqno?):
            return .seqno(Seqno(seqno))
        default:
            throw .badRequest("invalid target", "toEndOfLog, toTime, toSeqno: give at most one of them")
        }
    }
}
