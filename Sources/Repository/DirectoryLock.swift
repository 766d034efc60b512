import Foundation
import SystemPackage
import Tranlog

/// One process per data directory: an exclusive lock on `LOCK`, held while the repository is open
/// (and released by the kernel if the process dies). The holder's pid is written into the file so
/// a refusal can name it.
final class DirectoryLock: @unchecked Sendable {
    private let held: any FileLock

    init(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        do {
            guard let held = try fileSystem.lockExclusively(directory.lockFile) else {
                let holder = (try? fileSystem.readFile(directory.pidFile)).map { String(decoding: $0, as: UTF8.self) }
                let pid = holder?.trimmingCharacters(in: .whitespacesAndNewlines)
                throw RepositoryError.locked(path: directory.root.string, holder: pid.map { "pid \($0)" } ?? "unknown process")
            }
            self.held = held
            try fileSystem.replaceFile(directory.pidFile, contents: Array("\(getpid())\n".utf8)[...])
        } catch let error as RepositoryError {
            throw error
        } catch let error as TranlogError {
            throw .tranlog(error)
        } catch {
            preconditionFailure("unexpected \(error)")
        }
    }

    func release() {
        held.unlock()
    }
}
