import Foundation
import SystemPackage
import Tranlog

/// Whether tranlogs are kept after a checkpoint no longer needs them.
public enum LoggingMode: String, Codable, Sendable, CaseIterable {
    /// Every tranlog is kept until an operator purges or archives it: point-in-time restore works.
    case full
    /// Tranlogs older than the last checkpoint are removed: less disk, but backups cannot be rolled forward.
    case partial
}

/// `understudy.json`: what `init` decided about a data directory, fixed for its life.
public struct DataDirectoryConfig: Codable, Hashable, Sendable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var repositoryID: RepositoryID
    public var sourceID: SourceID
    public var loggingMode: LoggingMode
    public var createdAt: Timestamp

    public init(repositoryID: RepositoryID, sourceID: SourceID, loggingMode: LoggingMode, createdAt: Timestamp) {
        self.formatVersion = Self.currentFormatVersion
        self.repositoryID = repositoryID
        self.sourceID = sourceID
        self.loggingMode = loggingMode
        self.createdAt = createdAt
    }
}

/// The layout of a data directory (see docs/FORMATS.md):
///
///     DATA/understudy.json   DATA/epochs   DATA/admin.token   DATA/LOCK   DATA/LOCK.pid
///     DATA/restore.json  DATA/standbys.json  DATA/standby.json   (when they apply)
///     DATA/extents/MANIFEST  DATA/extents/extent-NNNNNN.dbf
///     DATA/tranlogs/tranlogN.dbf
public struct DataDirectory: Sendable {
    public let root: FilePath

    public init(_ root: FilePath) { self.root = root }

    public var configFile: FilePath { root.appending("understudy.json") }
    public var epochsFile: FilePath { root.appending("epochs") }
    public var adminTokenFile: FilePath { root.appending("admin.token") }
    public var lockFile: FilePath { root.appending("LOCK") }
    /// The pid of the process holding LOCK (informational: the lock itself is the flock).
    public var pidFile: FilePath { root.appending("LOCK.pid") }
    /// Present while the repository is in restore mode (see `RestoreState`).
    public var restoreStateFile: FilePath { root.appending("restore.json") }
    /// The standbys a primary keeps tranlogs for (see `KnownStandbys`).
    public var standbysFile: FilePath { root.appending("standbys.json") }
    /// A standby's own offline and pause state (the node's `StandbyControlStore`): this node's, so
    /// never copied to another.
    public var standbyControlFile: FilePath { root.appending("standby.json") }
    /// On a synchronous primary, the standbys it told are required (the node's `SynchronousPinFile`):
    /// promises this node made, so never copied to another.
    public var synchronousPinFile: FilePath { root.appending("synchronous.json") }
    /// Present while the node is fenced: it learned of a newer epoch (see `FenceState`).
    public var fenceFile: FilePath { root.appending("fence.json") }
    public var extents: FilePath { root.appending("extents") }
    public var tranlogs: FilePath { root.appending("tranlogs") }

    /// Creates a new repository's directory: config, epoch 1, admin token, empty manifest, first tranlog.
    /// Refuses a directory that already holds a repository.
    @discardableResult
    public static func initialize(
        _ root: FilePath, sourceID: SourceID, loggingMode: LoggingMode, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(RepositoryError) -> DataDirectoryConfig {
        let directory = DataDirectory(root)
        guard !fileSystem.fileExists(directory.configFile) else {
            throw .dataDirectory(path: root.string, problem: "already holds a repository (\(directory.configFile.string) exists)")
        }
        let now = Timestamp.now()
        let config = DataDirectoryConfig(repositoryID: .random(), sourceID: sourceID, loggingMode: loggingMode, createdAt: now)
        do throws(TranlogError) {
            for path in [root, directory.extents, directory.tranlogs] { try fileSystem.createDirectory(path) }
            // Else a power loss could take the whole new directory, understudy.json included, after init said it was made.
            try fileSystem.syncParentDirectory(of: root)
            try EpochHistoryStore.write(
                EpochHistory(first: EpochEntry(epoch: .first, startSeqno: Seqno(1), parentEpoch: .none, time: now, sourceID: sourceID)),
                to: directory.epochsFile, fileSystem: fileSystem)
            try fileSystem.writeNewFile(directory.adminTokenFile, contents: AdminToken.generate()[...], ownerOnly: true)
            let writer = try TranlogWriter(
                configuration: TranlogWriterConfiguration(directory: directory.tranlogs, repositoryID: config.repositoryID, sourceID: sourceID),
                fileSystem: fileSystem, startIfEmpty: .newRepository)
            try writer.close()
        } catch {
            throw .tranlog(error)
        }
        try extentCall { () throws(ExtentError) in
            try ManifestStore.write(Manifest.empty(for: config.repositoryID), directory: directory.extents, fileSystem: fileSystem)
        }
        // The config goes last: a directory without it is an interrupted init, never a repository.
        do { try fileSystem.replaceFile(directory.configFile, contents: JSONCoding.encode(config)[...]) } catch { throw .tranlog(error) }
        return config
    }

    /// Reads and checks `understudy.json`.
    public func readConfig(fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> DataDirectoryConfig {
        guard fileSystem.fileExists(configFile) else {
            throw .dataDirectory(path: root.string, problem: "no repository here (\(configFile.string) is missing); create one with `understudy init --data \(root.string)`")
        }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(configFile) } catch { throw .tranlog(error) }
        guard let config = try? JSONDecoder().decode(DataDirectoryConfig.self, from: Data(bytes)) else {
            throw .dataDirectory(path: root.string, problem: "\(configFile.string) is not a valid Understudy config (corrupt or not ours)")
        }
        guard config.formatVersion == DataDirectoryConfig.currentFormatVersion else {
            throw .dataDirectory(
                path: root.string,
                problem: "format version \(config.formatVersion) in \(configFile.string); this build reads version \(DataDirectoryConfig.currentFormatVersion)")
        }
        return config
    }
}

extension Manifest {
    /// The manifest of a repository that has no checkpoint yet: no runs, replay from tranlog1.
    static func empty(for repositoryID: RepositoryID) -> Manifest {
        Manifest(
            formatVersion: 1, repositoryID: repositoryID, generation: 1, runs: [],
            checkpoint: .empty,
            oldestFileIDNeeded: .first, cleanShutdown: true, nextRunGeneration: 1, digest: .empty)
    }
}

/// The bearer token guarding admin endpoints.
public enum AdminToken {
    static func generate() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return Array((hex + "\n").utf8)
    }

    public static func read(_ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> String {
        guard let bytes = try? fileSystem.readFile(directory.adminTokenFile) else {
            throw .dataDirectory(path: directory.root.string, problem: "cannot read \(directory.adminTokenFile.string) (run as the node's user)")
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

enum JSONCoding {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Our own Codable types cannot fail to encode.
        return Array(try! encoder.encode(value)) + [0x0A]
    }
}
