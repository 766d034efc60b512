import SystemPackage
import Tranlog

/// What `understudy extent inspect` reports (the manual's `copydbf -i` for extents): read from the
/// files alone, so it works on a stopped node, a copied directory or a running node.
public struct ExtentReport: Hashable, Sendable, Codable {
    public var dataDirectory: String
    public var repositoryID: RepositoryID
    public var cleanShutdown: Bool
    public var manifestGeneration: UInt64
    public var checkpoint: AppliedPosition
    /// Recovery replays tranlogs from this file on.
    public var oldestFileIDNeeded: FileID
    public var runs: [ExtentRunSummary]
    /// Live objects: every run read and merged, tombstones applied.
    public var objectCount: Int
    public var extentBytes: UInt64
}

public enum ExtentInspection {
    /// Reads MANIFEST and every run it names, checking every block.
    public static func inspect(
        _ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(RepositoryError) -> ExtentReport {
        let config = try directory.readConfig(fileSystem: fileSystem)
        let manifest = try Recovery.readManifest(directory, config: config, fileSystem: fileSystem)
        let table = try Recovery.loadRuns(manifest, directory: directory, repositoryID: config.repositoryID, fileSystem: fileSystem)
        return ExtentReport(
            dataDirectory: directory.root.string, repositoryID: config.repositoryID, cleanShutdown: manifest.cleanShutdown,
            manifestGeneration: manifest.generation, checkpoint: manifest.checkpoint, oldestFileIDNeeded: manifest.oldestFileIDNeeded,
            runs: manifest.runs, objectCount: table.count, extentBytes: manifest.runs.reduce(0) { $0 + $1.byteCount })
    }
}
