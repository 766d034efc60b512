import Tranlog

/// Every way a repository operation can fail, worded for the operator or client that sees it.
public enum RepositoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A precondition did not hold: nothing of the transaction was applied.
    case conflict(key: [UInt8], expected: String, actual: String)
    case invalidTransaction(String)
    /// The repository's configuration is not usable (`RepositoryConfiguration.validate`).
    case invalidConfiguration(String)
    /// An operation this repository's mode or settings do not allow.
    case notAllowed(String)
    /// Writes are refused: the repository is in restore mode (or a standby).
    case readOnly(String)
    /// This node learned of a newer epoch (another node was promoted): it acknowledges no commits.
    case fenced(FenceState)
    /// The tranlog writer failed (a failed sync, a full disk); no further commits until a restart.
    case stopped(String)
    case tranlog(TranlogError)
    case extent(ExtentError)
    case backup(BackupError)
    case dataDirectory(path: String, problem: String)
    case locked(path: String, holder: String)
    case missingTranlog(needed: FileID, directory: String, detail: String)
    /// The logs do not continue the repository's position: a gap, or another timeline.
    case logsDoNotContinue(String)
    /// Records of another branch of history: never replayed.
    case forkInTime(String)
    /// A restore operation on a repository that is not in restore mode.
    case restoreNotActive
    /// Another restore operation (or a checkpoint suspension) is under way.
    case busy(String)
    /// Tranlogs cannot be applied (a backup made in partial logging mode).
    case logsRefused(String)
    /// A log restore stopped at an error after applying part of the logs, which is kept.
    case restoreInterrupted(cause: String, restoredTo: AppliedPosition)
    /// `restore backup` of `files` failed at or after its commit point: the directory may be switching
    /// to the backup while this process holds the state before it, which nothing may act on.
    case backupSwitchPending(files: [String])
    /// The node learned of a newer epoch and refuses commits, but the disk failed to record the fence.
    case fenceNotRecorded(FenceState, file: String, cause: String)

    public var description: String {
        switch self {
        case .conflict(let key, let expected, let actual):
            return "conflict on key \(KeyText.display(key)): expected \(expected), found \(actual); nothing was applied"
        case .invalidTransaction(let reason):
            return "invalid transaction: \(reason)"
        case .invalidConfiguration(let reason):
            return "invalid repository configuration: \(reason)"
        case .readOnly(let reason), .notAllowed(let reason):
            return reason
        case .fenced(let fence):
            return "\(fence). This node was the primary before that epoch was opened, and accepts no commits so that two "
                + "primaries never both acknowledge them. Write to the new primary; re-seed this node as its standby (move its "
                + "data directory aside and start `understudy standby` on an empty one: docs/OPERATIONS.md, \"The old primary\"), "
                + "or, only if you know no other node accepts writes, run `understudy unfence`"
        case .stopped(let reason):
            return "the repository accepts no more commits: \(reason)"
        case .tranlog(let error):
            return error.description
        case .extent(let error):
            return error.description
        case .backup(let error):
            return error.description
        case .dataDirectory(let path, let problem):
            return "data directory \(path): \(problem)"
        case .locked(let path, let holder):
            return "data directory \(path) is in use by another process (\(holder)); stop it first, or use another directory"
        case .logsDoNotContinue(let detail):
            return "the logs do not continue the repository: \(detail). Supply the missing tranlogs, or the logs of this "
                + "repository's timeline, and run the restore again"
        case .forkInTime(let detail):
            return "fork in time: \(detail)"
        case .restoreNotActive:
            return "Restore is not active: start the node with `understudy start --data DIR --restore-mode` first"
        case .busy(let detail):
            return detail
        case .logsRefused(let reason):
            return "transaction logs cannot be restored: \(reason). Commit the restore (`understudy restore commit`) to use the repository as restored"
        case .restoreInterrupted(let cause, let restoredTo):
            return "Restore from transaction log(s) failed: \(cause)\nRestored through \(restoredTo); that much is kept. "
                + "Supply the missing or damaged file and run the same restore again: it resumes from there"
        case .backupSwitchPending(let files):
            let named = files.joined(separator: " ")
            return "restore backup of \(named) failed at or after its commit point: the data directory may be switching to that "
                + "backup, but this process still holds the state from before it. Run `understudy restore backup \(named)` again, or "
                + "restart the node; either settles it"
        case .fenceNotRecorded(let fence, let file, let cause):
            return "\(fence). This node refuses every commit, but could not record the fence in \(file) (\(cause)), so a restart may not find "
                + "it: re-seed this node as a standby of the new primary (docs/OPERATIONS.md, \"The old primary\"); do not restart it "
                + "as a primary"
        case .missingTranlog(let needed, let directory, let detail):
            return "recovery needs \(needed.fileName) in \(directory), but \(detail). Copy the missing tranlogs back "
                + "(from the archive or a standby) or restore from a backup"
        }
    }
}

/// How keys appear in messages: printable ASCII as is, anything else as hex.
public enum KeyText {
    public static func display(_ key: [UInt8]) -> String {
        if key.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "'\(String(decoding: key, as: UTF8.self))'" }
        return "0x" + key.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
