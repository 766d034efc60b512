import Foundation
import Repository
import SystemPackage
import Tranlog

/// `DATA/synchronous.json`: the standbys a synchronous primary told are required and has not yet
/// heard know otherwise. Written (replaced atomically) before a standby is told it is required, and
/// read at start, so a restarted primary keeps waiting for them: a standby cut off while required
/// may still believe it, and its promote report would count on it. Absent: none.
struct SynchronousPinFile: Sendable {
    let path: FilePath
    let fileSystem: any TranlogFileSystem

    private struct Contents: Codable {
        var awaitedStandbys: [String]
    }

    init(directory: DataDirectory, fileSystem: any TranlogFileSystem) {
        path = directory.synchronousPinFile
        self.fileSystem = fileSystem
    }

    func load() throws(NodeError) -> Set<String> {
        guard fileSystem.fileExists(path) else { return [] }
        do {
            return Set(try JSONDecoder().decode(Contents.self, from: Data(try fileSystem.readFile(path))).awaitedStandbys)
        } catch {
            throw .invalidConfiguration(
                "\(path) is unreadable or corrupt (\(error)); it names the standbys this primary told they are synchronous. "
                    + "Remove it only if none of them will ever be promoted: their promote report could then be wrong")
        }
    }

    func save(_ nodes: Set<String>) throws(RepositoryError) {
        do {
            if nodes.isEmpty {
                if fileSystem.fileExists(path) { try fileSystem.removeFile(path) }
                try fileSystem.syncDirectory(path.removingLastComponent())
            } else {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                // Our own Codable type cannot fail to encode.
                let bytes = Array(try! encoder.encode(Contents(awaitedStandbys: nodes.sorted()))) + [0x0A]
                try fileSystem.replaceFile(path, contents: bytes[...])
            }
        } catch {
            throw .tranlog(error)
        }
    }
}
