import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension BackupTests {
    /// Bad targets are refused before anything is written; a failure while writing leaves no file.
    @Suite struct WriteFailureTests {
        static let table: ObjectTable = {
            var random = SeededRandom(seed: 42)
            return randomTable(count: 3_000, using: &random)
        }()

        /// `prepare` and `write` both refuse, and the directory is left as it was.
        func expectRefused(
            _ targets: [BackupTarget], compress: Bool = false, fileSystem: SimulatedFileSystem = backupFileSystem(),
            sourceLocation: SourceLocation = #_sourceLocation, _ expected: @escaping (BackupError) -> Bool
        ) {
            let before = files(fileSystem)
            expectBackupError(sourceLocation: sourceLocation, { _ = try BackupWriter.prepare(targets, compress: compress, fileSystem: fileSystem) }, expected)
            expectBackupError(sourceLocation: sourceLocation, { _ = try write(Self.table, targets, compress: compress, fileSystem: fileSystem) }, expected)
            #expect(files(fileSystem) == before, sourceLocation: sourceLocation)
        }

        @Test func existingFileIsRefused() throws {
            let fileSystem = backupFileSystem()
            try fileSystem.writeNewFile(path("b"), contents: [1, 2, 3])
            expectRefused([BackupTarget(path: path("a"), limitBytes: 10), BackupTarget(path: path("b"))], fileSystem: fileSystem) {
                $0 == .fileExists(file: path("b").string)
            }
            #expect(fileSystem.contents(of: path("b")) == [1, 2, 3])
        }

        /// With compression the check applies to the name with ".gz" appended.
        @Test func existingCompressedNameIsRefused() throws {
            let fileSystem = backupFileSystem()
            try fileSystem.writeNewFile(path("a.gz"), contents: [1])
            expectRefused([BackupTarget(path: path("a"))], compress: true, fileSystem: fileSystem) { $0 == .fileExists(file: path("a.gz").string) }
            let prepared = try BackupWriter.prepare([BackupTarget(path: path("b")), BackupTarget(path: path("c.gz"))], compress: true, fileSystem: fileSystem)
            #expect(prepared.map(\.path) == [path("b.gz"), path("c.gz")])
        }

        @Test func missingDirectoryIsRefused() {
            expectRefused([BackupTarget(path: FilePath("/nowhere/a"))]) {
                if case .directoryUnusable(file: "/nowhere/a", directory: "/nowhere", _) = $0 { return true } else { return false }
            }
        }

        @Test func emptyNameIsRefused() {
            expectRefused([BackupTarget(path: path("a")), BackupTarget(path: FilePath(""))]) { $0 == .emptyFileName(target: 1) }
            expectRefused([]) { $0 == .noFiles }
        }

        @Test func duplicateTargetIsRefused() {
            expectRefused([BackupTarget(path: path("a"), limitBytes: 5), BackupTarget(path: path("a"))]) { $0 == .duplicateTarget(file: path("a").string) }
        }

        /// The last target is unlimited whatever it was given.
        @Test func lastTargetIsUnlimited() throws {
            let prepared = try BackupWriter.prepare(
                [BackupTarget(path: path("a"), limitBytes: 5), BackupTarget(path: path("b"), limitBytes: 5)], compress: false,
                fileSystem: backupFileSystem())
            #expect(prepared.map(\.limitBytes) == [5, nil])
        }

        /// A full disk in the first or a later file: the error says so and every file is deleted.
        @Test(arguments: [(false, 50_000), (false, 250_000), (true, 30_000), (true, 200_000)])
        func fullDiskDeletesEveryFile(compress: Bool, freeBytes: Int) {
            let fileSystem = backupFileSystem()
            fileSystem.limitFreeSpace(to: freeBytes)
            let targets = [BackupTarget(path: path("a"), limitBytes: 100_000), BackupTarget(path: path("b"))]
            let error = expectBackupError({ _ = try write(Self.table, targets, compress: compress, fileSystem: fileSystem) }) {
                if case .writeFailed(.io(_, _, ENOSPC), leftBehind: []) = $0 { return true } else { return false }
            }
            #expect(files(fileSystem).isEmpty)
            #expect(error?.description.contains("every file it created was deleted") == true)
        }

        @Test func failedSyncDeletesEveryFile() {
            let fileSystem = backupFileSystem()
            fileSystem.failSyncs(afterSuccessful: 1)
            let targets = [BackupTarget(path: path("a"), limitBytes: 100_000), BackupTarget(path: path("b"))]
            expectBackupError({ _ = try write(Self.table, targets, fileSystem: fileSystem) }) {
                if case .writeFailed(.io(_, _, EIO), leftBehind: []) = $0 { return true } else { return false }
            }
            #expect(files(fileSystem).isEmpty)
        }
    }
}
