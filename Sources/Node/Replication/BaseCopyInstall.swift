import Foundation
import Logging
import Replication
import Repository
import SystemPackage
import Tranlog

/// Turns a received base copy into the standby's data directory. The files already sit where they
/// belong, written and synced as they arrived (`BaseCopyReceipt`), in `staging/data`: the install
/// checks that it is the repository the primary's signed end names, gives it the standby's own
/// source id, puts it in restore mode, then renames it into place — the one step that makes the
/// directory appear, whole. No byte of the copy is rewritten.
struct BaseCopyInstall {
    let staging: FilePath
    let target: DataDirectory
    let sourceID: SourceID
    let fileSystem: any TranlogFileSystem
    let logger: Logger

    /// Where the copy is received.
    static func built(in staging: FilePath) -> FilePath { staging.appending("data") }

    func run(end: BaseCopyEnd) throws(BaseCopyFailure) {
        let built = DataDirectory(Self.built(in: staging))
        try verify(built, end: end)
        do throws(RepositoryError) {
            _ = try Repository.ensureOwnSourceID(built, requested: sourceID, fileSystem: fileSystem)
            try Repository.enterRestoreMode(built, fileSystem: fileSystem)
        } catch {
            throw .storage("cannot make \(built.root) a standby's directory: \(error)")
        }
        try place(built.root)
    }

    /// The received `understudy.json` names the repository the end message does.
    private func verify(_ built: DataDirectory, end: BaseCopyEnd) throws(BaseCopyFailure) {
        let config: DataDirectoryConfig
        do { config = try built.readConfig(fileSystem: fileSystem) } catch {
            throw .verification("the copy in \(built.root) holds no readable understudy.json: \(error)")
        }
        guard config.repositoryID == end.repositoryID else {
            throw .verification("\(built.configFile) names repository \(config.repositoryID), the primary announced \(end.repositoryID)")
        }
        logger.notice("base copy verified", metadata: ["files": "\(end.digests.count)", "position": "\(end.position)"])
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
