import Foundation
import SystemPackage
import Tranlog

extension Repository {
    /// Gives a stopped data directory that is about to run as a standby its own source id, so that
    /// after a promotion its epochBegin and commits name it rather than the primary it was copied
    /// from. `requested` (`standby --source-id`) is adopted as given. Without one, an id that began
    /// an epoch of the directory's history — a copy of its primary, or an old primary rejoining as a
    /// standby — is replaced by `<id>-standby-<6 hex digits>`; any other id is the standby's own
    /// already and kept. Returns the id in force and whether it changed (`understudy.json` is
    /// rewritten atomically).
    public static func ensureOwnSourceID(
        _ directory: DataDirectory, requested: SourceID?, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(RepositoryError) -> (sourceID: SourceID, changed: Bool) {
        var config = try directory.readConfig(fileSystem: fileSystem)
        let lock = try DirectoryLock(directory, fileSystem: fileSystem)
        defer { lock.release() }
        let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        let own: SourceID
        if let requested {
            own = requested
        } else if history.entries.contains(where: { $0.sourceID == config.sourceID }) {
            own = derivedSourceID(from: config.sourceID)
        } else {
            own = config.sourceID
        }
        guard own != config.sourceID else { return (own, false) }
        config.sourceID = own
        do { try fileSystem.replaceFile(directory.configFile, contents: JSONCoding.encode(config)[...]) } catch { throw .tranlog(error) }
        return (own, true)
    }

    private static func derivedSourceID(from primary: SourceID) -> SourceID {
        let suffix = "-standby-" + String(format: "%06x", UInt32.random(in: 0..<(1 << 24)))
        let prefix = String(decoding: primary.name.utf8.prefix(SourceID.maxBytes - suffix.utf8.count), as: UTF8.self)
        return SourceID(prefix + suffix) ?? SourceID("standby" + suffix)!
    }
}
