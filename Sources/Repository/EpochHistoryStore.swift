import Foundation
import SystemPackage
import Tranlog

/// The `epochs` file: the repository's epoch history as JSON, replaced atomically on every new epoch.
/// It is small (one entry per commitRestore) and must never be half-written.
public enum EpochHistoryStore {
    public static func read(_ path: FilePath, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> EpochHistory {
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(path) } catch { throw .tranlog(error) }
        guard let history = try? JSONDecoder().decode(EpochHistory.self, from: Data(bytes)),
            (try? EpochHistory(entries: history.entries)) != nil
        else {
            throw .dataDirectory(path: path.string, problem: "the epoch history is corrupt; restore the data directory from a backup")
        }
        return history
    }

    public static func write(_ history: EpochHistory, to path: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        try fileSystem.replaceFile(path, contents: JSONCoding.encode(history)[...])
    }
}
