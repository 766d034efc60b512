import Dispatch
import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// Opening a repository loads its extent runs with their entries decoded and hashed on another
/// thread, chunk by chunk, ahead of the table (`Recovery.loadRuns` through `WorkAhead`).
extension ExtentTests {
    @Suite struct LoadTests {
        /// Three checkpoints of 10,000 keys, the later ones overwriting and deleting keys of the
        /// earlier: many chunks per run, and a key's last run must win wherever the chunks fall.
        static func repositoryOfThreeRuns() async throws -> (SimulatedFileSystem, model: [[UInt8]: [UInt8]], digest: ContentDigest) {
            let fileSystem = try initializedFileSystem()
            let repository = try openRepository(fileSystem, testConfiguration(maxRuns: 8, rotationBytes: 1 << 20))
            var model: [[UInt8]: [UInt8]] = [:]
            func commit(_ operations: [Tranlog.Operation]) async throws {
                for batch in stride(from: 0, to: operations.count, by: 500) {
                    _ = try await repository.commit(Transaction(operations: Array(operations[batch..<min(batch + 500, operations.count)])))
                }
                for operation in operations {
                    switch operation {
                    case .put(let key, let value): model[key] = value
                    case .delete(let key): model[key] = nil
                    }
                }
            }
            func puts(_ keys: [Int], _ label: String) -> [Tranlog.Operation] {
                keys.map { Tranlog.Operation.put(key: bytes("key-\($0)"), value: bytes("\(label) \($0)")) }
            }
            func deletes(_ keys: [Int]) -> [Tranlog.Operation] {
                keys.map { Tranlog.Operation.delete(key: bytes("key-\($0)")) }
            }
            let keys = Array(0..<10_000)
            try await commit(puts(keys, "first"))
            try repository.checkpoint()
            try await commit(puts(keys.filter { $0 % 3 == 0 }, "second") + deletes(keys.filter { $0 % 7 == 1 }))
            try repository.checkpoint()
            try await commit(puts(keys.filter { $0 % 7 == 1 && $0 % 2 == 0 }, "third") + deletes(keys.filter { $0 % 5 == 0 }))
            try repository.checkpoint()
            let digest = repository.snapshot().table.digest
            try repository.close()
            return (fileSystem, model, digest)
        }

        @Test func runsLoadedAheadLeaveEveryObjectAndTheDigest() async throws {
            let (fileSystem, model, digest) = try await Self.repositoryOfThreeRuns()
            let runs = try fileSystem.contentsOfDirectory(DataDirectory(nodeRoot).extents).filter { $0.hasPrefix("extent-") }
            #expect(runs.count >= 3, "\(runs)")
            let repository = try openRepository(fileSystem)
            defer { try? repository.close() }
            let table = repository.snapshot().table
            #expect(table.count == model.count)
            #expect(table.digest == digest)
            for (key, value) in model where table[key]?.value != value {
                Issue.record("key \(KeyText.display(key)): \(table[key].map { String(decoding: $0.value, as: UTF8.self) } ?? "absent")")
            }
        }

        /// A damaged block deep in the newest run (after earlier runs' chunks were loaded) fails the
        /// open with the extent error that names the file and block, not a partial table.
        @Test func aDamagedRunFailsTheOpenNamingItsFileAndBlock() async throws {
            let (fileSystem, _, _) = try await Self.repositoryOfThreeRuns()
            let extents = DataDirectory(nodeRoot).extents
            let newest = try #require(try fileSystem.contentsOfDirectory(extents).filter { $0.hasPrefix("extent-") }.sorted().last)
            let path = extents.appending(newest)
            let run = try ExtentRun.open(path, repositoryID: try DataDirectory(nodeRoot).readConfig(fileSystem: fileSystem).repositoryID, fileSystem: fileSystem)
            let damaged = run.blocks.count / 2
            var contents = try #require(fileSystem.contents(of: path))
            contents[run.blocks[damaged].offset + 40] ^= 0x20
            fileSystem.overwrite(path, with: contents)
            do {
                let repository = try openRepository(fileSystem)
                try? repository.close()
                Issue.record("a damaged extent run opened")
            } catch RepositoryError.extent(.corrupt(let file, let region, _, _)) {
                #expect(file == path.string)
                #expect(region == .block(damaged))
            }
        }
    }
}

/// `WorkAhead` on its own: order, how far ahead the producer runs, errors after elements, and a
/// consumer that stops early.
@Suite struct WorkAheadTests {
    @Test func elementsArriveInOrderAndTheProducerStaysWithinItsDepth() throws {
        let produced = Shared(0)
        let ahead = WorkAhead<Int, Never>(depth: 3, on: DispatchQueue(label: "test.work-ahead")) { emit in
            for value in 0..<1_000 {
                produced.withLock { $0 += 1 }
                guard emit(value) else { return }
            }
        }
        var taken = 0
        while let value = ahead.next() {
            #expect(value == taken)
            taken += 1
            // What was produced: taken, up to 3 ready, and one being emitted.
            #expect(produced.withLock { $0 } <= taken + 4)
        }
        #expect(taken == 1_000)
    }

    struct Failure: Error, Equatable { let after: Int }

    @Test func aProducersErrorComesAfterTheElementsBeforeIt() {
        let ahead = WorkAhead<Int, Failure>(depth: 2, on: DispatchQueue(label: "test.work-ahead")) { emit throws(Failure) in
            for value in 0..<5 { _ = emit(value) }
            throw Failure(after: 5)
        }
        var taken: [Int] = []
        do {
            while let value = try ahead.next() { taken.append(value) }
            Issue.record("no error")
        } catch {
            #expect(error == Failure(after: 5))
        }
        #expect(taken == [0, 1, 2, 3, 4])
    }

    @Test func aConsumerThatStopsEarlyReleasesAWaitingProducer() {
        let stopped = DispatchSemaphore(value: 0)
        let emitted = Shared<[Bool]>([])
        var ahead: WorkAhead<Int, Never>? = WorkAhead(depth: 1, on: DispatchQueue(label: "test.work-ahead")) { emit in
            defer { stopped.signal() }
            for value in 0..<1_000 {
                let taken = emit(value)
                emitted.withLock { $0.append(taken) }
                guard taken else { return }
            }
        }
        #expect(ahead?.next() == 0)
        ahead = nil
        #expect(stopped.wait(timeout: .now() + 60) == .success, "the producer still waits to emit")
        let results = emitted.withLock { $0 }
        #expect(results.last == false)
        #expect(results.count < 1_000)
    }
}

/// A value two threads of a test share.
private final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.withLock { body(&value) }
    }
}
