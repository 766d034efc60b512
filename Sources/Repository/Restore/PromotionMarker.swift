import Foundation
import SystemPackage
import Tranlog

/// `DATA/promoted.json`: this directory opened an epoch as a primary (commitRestore: a promote, or
/// `restore commit`). `understudy standby` refuses such a directory, so a promoted node restarted by a
/// service manager with its old standby command line stays a primary instead of being turned back
/// into a standby of the node it replaced. An operator who means it (a `cp -a` copy for a new
/// standby, an old primary rejoining) deletes the file. `backup snapshot` leaves it out of its copy.
public struct PromotionMarker: Codable, Hashable, Sendable {
    public var epoch: Epoch
    /// The epochBegin record's seqno.
    public var seqno: Seqno
    public var time: Timestamp
    public var sourceID: SourceID

    public static func path(in directory: DataDirectory) -> FilePath { directory.root.appending("promoted.json") }

    /// The marker, nil when the directory never opened an epoch itself.
    public static func read(_ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> PromotionMarker? {
        let path = path(in: directory)
        guard fileSystem.fileExists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(path) } catch { throw .tranlog(error) }
        guard let marker = try? JSONDecoder().decode(PromotionMarker.self, from: Data(bytes)) else {
            throw .dataDirectory(path: directory.root.string, problem: "\(path.string) is corrupt; it records that this directory was promoted")
        }
        return marker
    }

    func write(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        do { try fileSystem.replaceFile(Self.path(in: directory), contents: JSONCoding.encode(self)[...]) } catch { throw .tranlog(error) }
    }
}

extension Repository {
    /// The marker of a directory that is a primary by its own promotion (not in restore mode again
    /// since): what `understudy standby` refuses to demote.
    public static func promotion(of directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> PromotionMarker? {
        guard let marker = try PromotionMarker.read(directory, fileSystem: fileSystem) else { return nil }
        return try RestoreStateStore.read(directory, fileSystem: fileSystem).active ? nil : marker
    }
}
