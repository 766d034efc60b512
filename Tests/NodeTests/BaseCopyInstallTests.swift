import Foundation
import Replication
import Repository
import SystemPackage
import Testing
import Tranlog

@testable import Node

/// The standby's last steps of a base copy on a real disk: a backup that does not verify, or is not
/// the one the primary's end message names, leaves no data directory; a good one becomes the
/// standby's repository, whole, with the primary's repository id and the standby's own source id.
@Suite struct BaseCopyInstallTests {
    struct Copied {
        let root: FilePath
        let staging: FilePath
        let backup: FilePath
        let end: BaseCopyEnd
        let objects: [String: [UInt8]]

        var target: DataDirectory { DataDirectory(root.appending("standby")) }

        func install() -> BaseCopyInstall {
            BaseCopyInstall(
                backup: backup, staging: staging, target: target, sourceID: SourceID("standby-node")!,
                repositoryConfiguration: RepositoryConfiguration(), fileSystem: PosixFileSystem(),
                logger: quietLogger)
        }
    }

    /// A primary's full backup of `count` objects, placed where a received copy would be.
    private func received(count: Int, in directory: URL) async throws -> Copied {
        let root = FilePath(directory.path)
        let primary = root.appending("primary")
        try DataDirectory.initialize(primary, sourceID: SourceID("primary")!, loggingMode: .full)
        let repository = try Repository(directory: DataDirectory(primary), logger: quietLogger)
        var objects: [String: [UInt8]] = [:]
        for index in 0..<count {
            let key = "key-\(index)", value = Array("value \(index) ".utf8) + Array(repeating: UInt8(index % 251), count: 64)
            objects[key] = value
            _ = try await repository.commit(Transaction(operations: [.put(key: Array(key.utf8), value: value)]))
        }
        let staging = root.appending("standby.base-copy-in-progress")
        try FileManager.default.createDirectory(atPath: staging.string, withIntermediateDirectories: false)
        let backup = staging.appending("base.backup")
        let summary = try repository.fullBackup(to: [BackupTarget(path: backup)], compress: false)
        let position = try #require(summary.position)
        let end = BaseCopyEnd(
            repositoryID: repository.config.repositoryID, position: LogPosition(epoch: position.epoch, seqno: position.seqno),
            byteCount: summary.byteCount, crc: 0, digest: Array(repeating: 0, count: 32))
        try repository.close()
        return Copied(root: root, staging: staging, backup: backup, end: end, objects: objects)
    }

    @Test func aGoodCopyBecomesTheStandbysRepository() async throws {
        try await withTemporaryDirectory { directory in
            let copied = try await received(count: 300, in: directory)
            let restored = try copied.install().run(end: copied.end) {}
            #expect(restored.seqno == copied.end.position.seqno)
            let config = try copied.target.readConfig()
            #expect(config.repositoryID == copied.end.repositoryID)
            #expect(config.sourceID == SourceID("standby-node")!)
            #expect(!FileManager.default.fileExists(atPath: copied.staging.appending("data").string))
            #expect(!FileManager.default.fileExists(atPath: copied.target.tranlogs.appending("set-aside-other-repository").string))
            let repository = try Repository(directory: copied.target, logger: quietLogger)
            defer { try? repository.close() }
            #expect(repository.isRestoring)
            #expect(repository.status.applied.seqno == copied.end.position.seqno)
            for (key, value) in copied.objects { #expect(repository.get(Array(key.utf8))?.value == value, "\(key)") }
        }
    }

    @Test func aDamagedBackupLeavesNoDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let copied = try await received(count: 300, in: directory)
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: copied.backup.string)))
            bytes[bytes.count / 2] ^= 0xff
            try Data(bytes).write(to: URL(fileURLWithPath: copied.backup.string))
            #expect {
                _ = try copied.install().run(end: copied.end) {}
            } throws: { error in
                guard case BaseCopyFailure.verification(let detail) = error else { return false }
                return detail.contains("CRC")
            }
            #expect(!FileManager.default.fileExists(atPath: copied.target.root.string))
            #expect(!FileManager.default.fileExists(atPath: copied.staging.appending("data").string))
        }
    }

    @Test func aBackupOtherThanTheAnnouncedOneIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let copied = try await received(count: 10, in: directory)
            var end = copied.end
            end.position.seqno = Seqno(end.position.seqno.rawValue + 1)
            #expect {
                _ = try copied.install().run(end: end) {}
            } throws: { error in
                guard case BaseCopyFailure.verification(let detail) = error else { return false }
                return detail.contains("announced")
            }
            #expect(!FileManager.default.fileExists(atPath: copied.target.root.string))
        }
    }

    private func withTemporaryDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-basecopy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }
}
