import Foundation
import Tranlog

/// Where in a backup file damage was found.
public enum BackupRegion: Hashable, Sendable, CustomStringConvertible {
    case header
    /// Blocks are numbered from 0 in each file.
    case block(Int)
    case trailer

    public var description: String {
        switch self {
        case .header: return "header"
        case .block(let number): return "block \(number)"
        case .trailer: return "trailer"
        }
    }
}

/// Every way writing or reading a full backup can fail. Checking targets fails before anything is
/// written; a failed write deletes what it wrote; a damaged backup is never read around. Offsets
/// are in a file's content: for a compressed file, in what `zcat` prints.
public enum BackupError: Error, Hashable, Sendable, CustomStringConvertible {
    case noFiles
    /// Targets are numbered from 0 in the order given.
    case emptyFileName(target: Int)
    case duplicateTarget(file: String)
    case directoryUnusable(file: String, directory: String, cause: TranlogError)
    case fileExists(file: String)
    /// Writing failed (a full disk, an I/O error, a failed sync). `leftBehind` lists the files that
    /// could not be deleted afterwards.
    case writeFailed(cause: TranlogError, leftBehind: [String])
    case unreadable(file: String, part: Int, cause: TranlogError)
    case notABackup(file: String)
    case unsupportedVersion(file: String, version: Int)
    case otherBackup(file: String, found: UUID, expected: UUID, firstFile: String)
    case wrongPart(file: String, found: Int, expected: Int)
    /// The last file given is not the backup's last part.
    case notFinalPart(file: String, part: Int)
    case truncated(file: String, part: Int, offset: UInt64, detail: String)
    case corrupt(file: String, part: Int, region: BackupRegion, offset: UInt64, detail: String)
    case damagedCompression(file: String, part: Int, detail: String)

    public var description: String {
        switch self {
        case .noFiles:
            return "no backup files were given"
        case .emptyFileName(let target):
            return "backup target \(target) has an empty file name: name a file (not a directory) for every target"
        case .duplicateTarget(let file):
            return "\(file) is given twice as a backup target: name a different file for each part"
        case .directoryUnusable(let file, let directory, let cause):
            return "cannot write \(file): its directory \(directory) is unusable (\(cause)); create it or choose another"
        case .fileExists(let file):
            return "\(file) already exists: a backup never overwrites a file; choose another name or move the file away"
        case .writeFailed(let cause, let leftBehind):
            let cleanup = leftBehind.isEmpty
                ? "every file it created was deleted"
                : "these incomplete files could not be deleted and must be removed by hand: \(leftBehind.joined(separator: ", "))"
            return "the backup failed: \(cause); \(cleanup). Fix the cause (free space, or larger limits) and run it again"
        case .unreadable(let file, let part, let cause):
            return "cannot read \(file) (part \(part) of the backup): \(cause)"
        case .notABackup(let file):
            return "\(file) is not a full backup file (neither its magic nor gzip's): \(Self.wrongFile)"
        case .unsupportedVersion(let file, let version):
            return "\(file) has backup format version \(version); this build reads version \(BackupFormat.version): "
                + "restore it with the Understudy release that wrote it"
        case .otherBackup(let file, let found, let expected, let firstFile):
            return "\(file) belongs to backup \(Self.text(found)), not to backup \(Self.text(expected)) of \(firstFile): "
                + Self.wrongFile
        case .wrongPart(let file, let found, let expected):
            return "\(file) is part \(found) of its backup, but part \(expected) was expected here: "
                + "give the files in the order they were written, part 0 first"
        case .notFinalPart(let file, let part):
            return "\(file) is part \(part), but the backup continues in part \(part + 1), which was not given: "
                + "give every file of the backup, in order"
        case .truncated(let file, let part, let offset, let detail):
            return "\(file) (part \(part)) is truncated: it ends at byte \(offset), \(detail); \(Self.damaged)"
        case .corrupt(let file, let part, let region, let offset, let detail):
            return "\(file) (part \(part)): corrupt \(region) at byte offset \(offset): \(detail); \(Self.damaged)"
        case .damagedCompression(let file, let part, let detail):
            return "\(file) (part \(part)) does not decompress: \(detail); \(Self.damaged)"
        }
    }

    private static let wrongFile = "give only the files of one backup, in the order they were written"
    private static let damaged = "the backup cannot be restored from this file: supply an intact copy, or use another backup"

    private static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}
