import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// Over a log that rewrites and deletes a dozen keys again and again, including a put and a delete
/// of one key in the same commit, every replay path (a step from memory, a step from the mirror on
/// disk, crash recovery) leaves exactly what the primary's commits left: the objects with their
/// seqnos, the absent keys, and the content digest.
extension RestoreTests {
    static let rewrittenKeys = (0..<12).map { "hot-\($0)" }

    /// A primary that wrote two commits that put and delete one key, then `commits` commits of one to
    /// three operations on `rewrittenKeys` (seeded), checkpointed after the first few: the survivor
    /// of its crash, its content and its digest.
    static func rewritingPrimary(commits: Int, seed: UInt64) async throws
        -> (fileSystem: SimulatedFileSystem, content: [String: StoredObject?], digest: PositionedDigest)
    {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        var random = SeededRandom(seed: seed)
        // A put and a delete of one key in one commit, both ways round.
        _ = try await repository.commit(Transaction(operations: [.put(key: bytes("hot-0"), value: bytes("gone")), .delete(key: bytes("hot-0"))]))
        _ = try await repository.commit(Transaction(operations: [.delete(key: bytes("hot-1")), .put(key: bytes("hot-1"), value: bytes("kept"))]))
        for index in 0..<commits {
            var operations: [Tranlog.Operation] = []
            for _ in 0...Int.random(in: 0...2, using: &random) {
                let key = bytes(rewrittenKeys.randomElement(using: &random)!)
                operations.append(
                    Int.random(in: 0..<4, using: &random) == 0
                        ? .delete(key: key) : .put(key: key, value: bytes("value-\(index)-\(operations.count)")))
            }
            _ = try await repository.commit(Transaction(operations: operations))
            if index == 4 { try repository.checkpoint() }
        }
        let content = Dictionary(uniqueKeysWithValues: rewrittenKeys.map { ($0, repository.get(bytes($0))) })
        let digest = repository.digest
        let survivor = fileSystem.crashed(seed: 1)
        _ = try? repository.close()
        return (survivor, content, digest)
    }

    static func expectContent(_ repository: Repository, _ content: [String: StoredObject?], _ digest: PositionedDigest, _ path: Comment) {
        for key in rewrittenKeys {
            #expect(repository.get(bytes(key)) == content[key]!, "\(key) after \(path)")
        }
        #expect(repository.digest == digest, path)
    }

    @Test(arguments: [UInt64(7), 8, 9])
    func everyReplayPathLeavesWhatTheCommitsLeft(seed: UInt64) async throws {
        let (fileSystem, content, digest) = try await Self.rewritingPrimary(commits: 300, seed: seed)
        #expect(content.values.contains { $0 == nil }, "some keys end deleted")
        #expect(content.values.contains { $0 != nil }, "some keys end written")
        let lastSeqno = digest.seqno

        // One step from memory, in batches prepared ahead (each key written about 50 times in it).
        let fromMemory = try Self.restoring(fileSystem.crashed(seed: 2))
        #expect(try fromMemory.applyMirrored(try Self.mirroredFrames(fileSystem, framesPerBatch: 16), through: lastSeqno).seqno == lastSeqno)
        Self.expectContent(fromMemory, content, digest, "a step from memory")
        try fromMemory.close()

        // One step from the mirror on disk.
        let fromDisk = try Self.restoring(fileSystem.crashed(seed: 3))
        #expect(try fromDisk.applyLocalLogs(through: lastSeqno).seqno == lastSeqno)
        Self.expectContent(fromDisk, content, digest, "a step from disk")
        try fromDisk.close()

        // Crash recovery: the checkpoint, then the log after it.
        let recovered = try openRepository(fileSystem.crashed(seed: 4))
        Self.expectContent(recovered, content, digest, "recovery")
        try recovered.close()
    }
}
