import Foundation
import Replication
import Repository
import SystemPackage
import Testing
import Tranlog

@testable import Node
@testable import Replication

/// What a standby holds once `repository`'s pinned files arrived, written by the receipt the client
/// uses (a chunk per file), and the end the primary would sign for them.
func receiveBaseCopy(of repository: Repository, into staging: FilePath, fileSystem: any TranlogFileSystem) throws -> BaseCopyEnd {
    let pin = try repository.pinCheckpoint()
    defer { pin.release() }
    let start = BaseCopyStart(
        repositoryID: pin.repositoryID, pinID: BaseCopyProof.makePinID(), files: pin.files.map { BaseCopyFile(path: $0.path, size: $0.size) })
    let receipt = BaseCopyReceipt(directory: BaseCopyInstall.built(in: staging), fileSystem: fileSystem)
    try receipt.reset(to: start)
    for (index, file) in start.files.enumerated() where file.size > 0 {
        let bytes = try fileSystem.read(repository.directory.root.appending(file.path), at: 0, count: Int(file.size))
        try receipt.append(BaseCopyChunk(file: UInt32(index), offset: 0, bytes: bytes))
    }
    return BaseCopyEnd(
        repositoryID: pin.repositoryID, position: LogPosition(epoch: pin.position.epoch, seqno: pin.position.seqno), pinID: start.pinID,
        digests: try receipt.finish())
}

/// The primary's side (a checkpoint pin, files read in place, nothing staged) and the standby's last
/// step (install by one rename) on a real disk: a good copy becomes the standby's repository, whole,
/// with the primary's repository id and the standby's own source id; a copy of another repository
/// leaves no data directory.
@Suite struct BaseCopyInstallTests {
    static let standby = SourceID("standby-test")!

    struct Copied {
        let root: FilePath
        let staging: FilePath
        let end: BaseCopyEnd
        let objects: [String: [UInt8]]

        var target: DataDirectory { DataDirectory(root.appending("standby")) }

        func install() -> BaseCopyInstall {
            BaseCopyInstall(staging: staging, target: target, sourceID: SourceID("standby-node")!, fileSystem: PosixFileSystem(), logger: quietLogger)
        }
    }

    /// A primary with `count` objects, some checkpointed and some only in its tranlog.
    private func primary(count: Int, in root: FilePath) async throws -> (Repository, [String: [UInt8]]) {
        let primary = root.appending("primary")
        try DataDirectory.initialize(primary, sourceID: SourceID("primary")!, loggingMode: .full)
        let repository = try Repository(directory: DataDirectory(primary), logger: quietLogger)
        var objects: [String: [UInt8]] = [:]
        for index in 0..<count {
            let key = "key-\(index)", value = Array("value \(index) ".utf8) + Array(repeating: UInt8(index % 251), count: 64)
            objects[key] = value
            _ = try await repository.commit(Transaction(operations: [.put(key: Array(key.utf8), value: value)]))
            if index == count / 2 { try repository.checkpoint() }
        }
        return (repository, objects)
    }

    private func received(count: Int, in directory: URL) async throws -> Copied {
        let root = FilePath(directory.path)
        let (repository, objects) = try await primary(count: count, in: root)
        let staging = root.appending("standby.base-copy-in-progress")
        try FileManager.default.createDirectory(atPath: staging.string, withIntermediateDirectories: false)
        let end = try receiveBaseCopy(of: repository, into: staging, fileSystem: PosixFileSystem())
        try repository.close()
        return Copied(root: root, staging: staging, end: end, objects: objects)
    }

    @Test func aGoodCopyBecomesTheStandbysRepository() async throws {
        try await withTemporaryDirectory { directory in
            let copied = try await received(count: 300, in: directory)
            try copied.install().run(end: copied.end)
            let config = try copied.target.readConfig()
            #expect(config.repositoryID == copied.end.repositoryID)
            #expect(config.sourceID == SourceID("standby-node")!)
            #expect(!FileManager.default.fileExists(atPath: BaseCopyInstall.built(in: copied.staging).string))
            let repository = try Repository(directory: copied.target, logger: quietLogger)
            defer { try? repository.close() }
            #expect(repository.isRestoring)
            // In restore mode it stands at the copied checkpoint; the copied tranlogs take it to the pin's position.
            let applied = try repository.applyLocalLogs(through: copied.end.position.seqno)
            #expect(applied.seqno == copied.end.position.seqno)
            for (key, value) in copied.objects { #expect(repository.get(Array(key.utf8))?.value == value, "\(key)") }
        }
    }

    @Test func aCopyOfAnotherRepositoryLeavesNoDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let copied = try await received(count: 10, in: directory)
            var end = copied.end
            end.repositoryID = RepositoryID.random()
            #expect {
                try copied.install().run(end: end)
            } throws: { error in
                guard case BaseCopyFailure.verification(let detail) = error else { return false }
                return detail.contains("announced")
            }
            #expect(!FileManager.default.fileExists(atPath: copied.target.root.string))
        }
    }

    /// The primary stages nothing: while a pin is held its data directory gains no file, checkpoints
    /// wait (commits go on), and once the pin is released a checkpoint runs again.
    @Test func aPinStagesNothingHoldsCheckpointsAndReleasesThem() async throws {
        try await withTemporaryDirectory { directory in
            let root = FilePath(directory.path)
            let (repository, _) = try await primary(count: 50, in: root)
            defer { try? repository.close() }
            // An atomic replace's temporary file, as a running node may have one at any moment.
            #expect(FileManager.default.createFile(atPath: repository.directory.root.appending("synchronous.json.tmp").string, contents: Data([0])))
            // A standby's offline state, as a promote interrupted before removing it leaves.
            #expect(FileManager.default.createFile(atPath: repository.directory.standbyControlFile.string, contents: Data("{}".utf8)))
            // A synchronous primary's promises to its own standbys.
            #expect(FileManager.default.createFile(
                atPath: repository.directory.synchronousPinFile.string, contents: Data("{\"awaitedStandbys\": [\"s1\"]}".utf8)))
            let source = RepositoryBaseCopySource(repository: repository, resumeWindow: .seconds(60), logger: quietLogger)
            let pin = try source.pin(for: Self.standby, resuming: nil).get()
            // Listed once pinned: the 60 s checkpoint timer may have run a checkpoint just before.
            let before = try allFiles(under: repository.directory.root)
            #expect(pin.files.contains { $0.path == "extents/MANIFEST" } && pin.files.contains { $0.path.hasPrefix("tranlogs/") })
            #expect(!pin.files.contains { ["LOCK", "LOCK.pid", "standbys.json", "standby.json", "synchronous.json", "synchronous.json.tmp"].contains($0.path) })
            for index in pin.files.indices {
                let bytes = try source.read(pin, file: index, at: 0, count: Int(pin.files[index].size))
                #expect(bytes.count == Int(pin.files[index].size), "\(pin.files[index].path)")
            }
            _ = try await repository.commit(Transaction(operations: [.put(key: Array("during".utf8), value: [1])]))
            #expect(try repository.checkpoint() == nil, "pinned: no checkpoint")
            let during = try allFiles(under: repository.directory.root)
            #expect(during.subtracting(before).allSatisfy { $0.hasPrefix("tranlogs/") }, "staged: \(during.subtracting(before))")
            #expect(!during.contains { $0.hasPrefix("base-copy") })
            // Cut: kept for a resume, which gets it back.
            source.release(pin, completed: false)
            #expect(source.pinCount == 1)
            #expect(try source.pin(for: Self.standby, resuming: pin.id).get().id == pin.id)
            source.release(pin, completed: true)
            #expect(source.pinCount == 0)
            #expect(try repository.checkpoint() != nil, "released: checkpoints run again")
        }
    }

    /// A cut copy's pin that no standby resumes is released once the resume window lapses.
    @Test func aCutCopysPinLapses() async throws {
        try await withTemporaryDirectory { directory in
            let (repository, _) = try await primary(count: 5, in: FilePath(directory.path))
            defer { try? repository.close() }
            let source = RepositoryBaseCopySource(repository: repository, resumeWindow: .milliseconds(50), logger: quietLogger)
            let pin = try source.pin(for: Self.standby, resuming: nil).get()
            source.release(pin, completed: false)
            let deadline = ContinuousClock.now + .seconds(10)
            while source.pinCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(source.pinCount == 0)
            _ = try await repository.commit(Transaction(operations: [.put(key: Array("after".utf8), value: [2])]))
            #expect(try repository.checkpoint() != nil)
            #expect(try source.pin(for: Self.standby, resuming: pin.id).get().id != pin.id, "a lapsed pin is not resumed")
        }
    }

    private func allFiles(under root: FilePath) throws -> Set<String> {
        let enumerator = FileManager.default.enumerator(atPath: root.string)
        var files: Set<String> = []
        while let path = enumerator?.nextObject() as? String { files.insert(path) }
        return files
    }

    private func withTemporaryDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-basecopy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }
}
