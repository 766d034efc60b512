import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension BackupTests {
    /// On a real file system: a compressed backup is an ordinary gzip file per part, and a part
    /// gzipped by the `gzip` tool still reads.
    @Suite struct PosixTests {
        static let gzip = ["/usr/bin/gzip", "/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) }

        @Test func realFilesAndTheGzipTool() throws {
            let root = FilePath(NSTemporaryDirectory()).appending("understudy-backup-\(UUID().uuidString)")
            let fileSystem = PosixFileSystem()
            try fileSystem.createDirectory(root)
            defer { try? FileManager.default.removeItem(atPath: root.string) }
            var random = seeded("realFilesAndTheGzipTool")
            let table = randomTable(count: 3_000, using: &random)
            let compressed = [BackupTarget(path: root.appending("c-1"), limitBytes: 100_000), BackupTarget(path: root.appending("c-2"))]
            let summary = try write(table, compressed, compress: true, fileSystem: fileSystem)
            #expect(summary.files == [root.appending("c-1.gz").string, root.appending("c-2.gz").string])
            #expect(try readBack(summary.files.map { FilePath($0) }, fileSystem: fileSystem) == objects(of: table))
            guard let gzip = Self.gzip else {
                print("realFilesAndTheGzipTool: no gzip tool; skipping its checks")
                return
            }
            var unzipped = 0
            for file in summary.files {
                #expect(try Self.run(gzip, ["-t", file]).status == 0)
                let output = try Self.run(gzip, ["-dc", file])
                #expect(output.status == 0 && output.stdout.starts(with: Array("USBACKUP".utf8)))
                unzipped += output.stdout.count
            }
            #expect(UInt64(unzipped) == summary.uncompressedBytes)

            let plain = [BackupTarget(path: root.appending("p-1"), limitBytes: 100_000), BackupTarget(path: root.appending("p-2"))]
            _ = try write(table, plain, fileSystem: fileSystem)
            #expect(try Self.run(gzip, [root.appending("p-2").string]).status == 0)
            let paths = [root.appending("p-1"), root.appending("p-2.gz")]
            #expect(try readBack(paths, fileSystem: fileSystem) == objects(of: table))
        }

        static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, stdout: [UInt8]) {
            let finished = try ChildProcess.run(tool, arguments)
            return (finished.termination.succeeded ? 0 : 1, finished.output)
        }
    }
}
