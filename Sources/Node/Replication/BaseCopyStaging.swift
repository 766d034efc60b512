import Dispatch
import Foundation
import Logging
import Replication
import Repository
import SystemPackage
import Tranlog

/// The primary's base copies: a full backup (gzip) of the repository into `DATA/base-copy/`, made on
/// a dispatch queue while commits go on, sent by a `BaseCopySender` and removed afterwards. The
/// repository's one-backup-at-a-time rule answers a concurrent request with `backupInProgress`.
struct RepositoryBaseCopySource: BaseCopySource {
    private let repository: Repository
    private let fileSystem: any TranlogFileSystem
    private let logger: Logger

    static let directoryName = "base-copy"

    /// Removes files a killed primary left staged: no copy can be using them any more.
    init(repository: Repository, logger: Logger) {
        self.repository = repository
        fileSystem = repository.fileSystem
        self.logger = logger
        let directory = Self.directory(of: repository)
        for name in (try? fileSystem.contentsOfDirectory(directory)) ?? [] {
            logger.notice("removing a base copy left staged by an earlier run", metadata: ["file": "\(directory.appending(name))"])
            try? fileSystem.removeFile(directory.appending(name))
        }
    }

    static func directory(of repository: Repository) -> FilePath {
        repository.directory.root.appending(directoryName)
    }

    func stage(for standby: SourceID, completion: @escaping @Sendable (Result<StagedBackup, RejectReason>) -> Void) {
        DispatchQueue.global().async { [self] in completion(stageNow(for: standby)) }
    }

    func read(_ backup: StagedBackup, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
        try fileSystem.read(backup.path, at: offset, count: count)
    }

    func discard(_ backup: StagedBackup) {
        do { try fileSystem.removeFile(backup.path) } catch {
            logger.warning("cannot remove a staged base copy; remove it by hand", metadata: ["file": "\(backup.path)", "error": "\(error)"])
        }
    }

    private func stageNow(for standby: SourceID) -> Result<StagedBackup, RejectReason> {
        let directory = Self.directory(of: repository)
        if !fileSystem.fileExists(directory) {
            do { try fileSystem.createDirectory(directory) } catch {
                return .failure(.baseCopyFailed(detail: "cannot create \(directory): \(error)"))
            }
        }
        let path = directory.appending("base-copy-\(UUID().uuidString.lowercased()).backup.gz")
        do {
            let summary = try repository.fullBackup(to: [BackupTarget(path: path)], compress: true, label: "base copy for \(standby)")
            guard let position = summary.position else {
                return .failure(.baseCopyFailed(detail: "the backup to \(path) did not report its position"))
            }
            return .success(
                StagedBackup(
                    path: path, byteCount: summary.byteCount, repositoryID: repository.config.repositoryID,
                    position: LogPosition(epoch: position.epoch, seqno: position.seqno), compressed: true))
        } catch {
            // fullBackup removed whatever it wrote.
            if case .busy(let detail) = error { return .failure(.backupInProgress(detail: detail)) }
            return .failure(.baseCopyFailed(detail: "\(error)"))
        }
    }
}
