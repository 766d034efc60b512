import Foundation
import Logging
import Replication
import Repository
import SystemPackage
import Tranlog

/// Turns a received base copy into the standby's data directory: verifies the backup completely,
/// restores it into a new repository beside the target (its own source id, the primary's repository
/// id), then renames that into place — the one step that makes the directory appear, whole.
struct BaseCopyInstall {
    let backup: FilePath
    let staging: FilePath
    let target: DataDirectory
    let sourceID: SourceID
    let repositoryConfiguration: RepositoryConfiguration
    let fileSystem: any TranlogFileSystem
    let logger: Logger

    /// The restored repository's position.
    func run(end: BaseCopyEnd, restoring: () -> Void) throws(BaseCopyFailure) -> AppliedPosition {
        let description = try verify(end)
        restoring()
        let built = staging.appending("data")
        let report = try restore(into: built, loggingMode: description.loggingMode)
        try place(built)
        return report.restoredTo
    }

    /// Every check of the backup reader (headers, block chain CRCs, key order, trailers), and that the
    /// backup is the one the primary's signed end message describes.
    private func verify(_ end: BaseCopyEnd) throws(BaseCopyFailure) -> BackupDescription {
        let (description, summary): (BackupDescription, BackupSummary)
        do throws(BackupError) {
            let reader = try BackupReader.open([backup], fileSystem: fileSystem)
            (description, summary) = (reader.description, try reader.verify())
        } catch {
            throw .verification("\(error)")
        }
        guard description.repositoryID == end.repositoryID,
            description.position.seqno == end.position.seqno, description.position.epoch == end.position.epoch
        else {
            throw .verification(
                "\(backup) holds repository \(description.repositoryID) at \(description.position), the primary announced "
                    + "\(end.repositoryID) at seqno \(end.position.seqno)")
        }
        logger.notice("base copy verified", metadata: ["objects": "\(summary.objectCount)", "position": "\(description.position)"])
        return description
    }

    /// init, restore mode, restoreBackup: the same steps as a manual restore, in the staging directory.
    private func restore(into built: FilePath, loggingMode: LoggingMode) throws(BaseCopyFailure) -> BackupRestoreReport {
        do throws(RepositoryError) {
            try DataDirectory.initialize(built, sourceID: sourceID, loggingMode: loggingMode, fileSystem: fileSystem)
            let directory = DataDirectory(built)
            try Repository.enterRestoreMode(directory, fileSystem: fileSystem)
            let repository = try Repository(directory: directory, configuration: repositoryConfiguration, fileSystem: fileSystem, logger: logger)
            let report: BackupRestoreReport
            do { report = try repository.restoreBackup(from: [backup]) } catch {
                try? repository.close()
                throw error
            }
            try repository.close()
            // The first tranlog `init` wrote belongs to the throwaway repository id: the standby's log
            // is the primary's, mirrored from the backup's position on.
            do { try fileSystem.removeTree(directory.tranlogs.appending("set-aside-other-repository")) } catch { throw .tranlog(error) }
            return report
        } catch {
            throw .storage("restoring the base copy into \(built) failed: \(error)")
        }
    }

    /// Replaces the (missing or empty) target with the built directory by one rename, durable once
    /// both directories it touches are synced.
    private func place(_ built: FilePath) throws(BaseCopyFailure) {
        let target = target.root
        if fileSystem.fileExists(target) {
            // Still empty (checked at start, but the operator may have written to it since): rmdir refuses otherwise.
            do { try fileSystem.removeDirectory(target) } catch {
                throw .storage("\(target) is no longer empty (or cannot be removed): \(error)")
            }
        }
        do {
            try fileSystem.rename(built, to: target)
            try fileSystem.syncParentDirectory(of: target)
            try fileSystem.syncDirectory(staging)
        } catch {
            throw .storage("cannot move \(built) to \(target): \(error)")
        }
    }
}
