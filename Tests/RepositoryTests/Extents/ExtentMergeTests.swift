import Foundation
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension ExtentTests {
    /// Merging against a model: runs written from random batches of puts and deletes, merged whole
    /// or in part, must leave exactly the state of applying every batch in order.
    @Suite struct MergeTests {
        static var seeds: [UInt64] {
            if let fixed = ProcessInfo.processInfo.environment["UNDERSTUDY_SEED"].flatMap(UInt64.init) { return [fixed] }
            var random = SeededRandom(seed: testSeed())
            return (0..<5).map { _ in random.next() }
        }

        /// One checkpoint's run: the last operation of the batch on each key it touched.
        static func randomRuns(count: Int, using random: inout SeededRandom) -> [[ExtentEntry]] {
            var seqno: UInt64 = 0
            return (0..<count).map { _ in
                var batch: [[UInt8]: ExtentEntry] = [:]
                for _ in 0..<Int.random(in: 1...400, using: &random) {
                    seqno += 1
                    let key = Array("key-\(Int.random(in: 0..<300, using: &random))".utf8)
                    let value = Int.random(in: 0..<3, using: &random) == 0 ? nil : randomBytes(Int.random(in: 0...64, using: &random), using: &random)
                    batch[key] = ExtentEntry(key: key, value: value, seqno: Seqno(seqno))
                }
                return batch.values.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            }
        }

        @Test(arguments: seeds)
        func mergedRunsMatchTheModel(seed: UInt64) throws {
            print("MergeTests seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
            var random = SeededRandom(seed: seed)
            let batches = Self.randomRuns(count: Int.random(in: 2...6, using: &random), using: &random)
            let fileSystem = extentsFileSystem()
            for (index, batch) in batches.enumerated() { _ = try writeRun(batch, generation: UInt64(index + 1), fileSystem: fileSystem) }
            let newestFirst = try (1...batches.count).reversed().map { try openRun(UInt64($0), fileSystem: fileSystem) }
            let model = load(batches)

            let everything = try ExtentMerger.merge(
                newestFirst, generation: 100, dropTombstones: true, repositoryID: repositoryID, to: runPath(100), fileSystem: fileSystem)
            let merged = try openRun(100, fileSystem: fileSystem).entries()
            #expect(everything.tombstoneCount == 0 && !merged.contains(where: \.isTombstone))
            #expect(differingKeys(Dictionary(uniqueKeysWithValues: merged.map { ($0.key, $0) }), model) == [], "seed \(seed)")

            // Merging only the newest runs keeps their tombstones: they still shadow the older runs.
            let newest = Int.random(in: 1...batches.count, using: &random)
            _ = try ExtentMerger.merge(
                Array(newestFirst.prefix(newest)), generation: 101, dropTombstones: false, repositoryID: repositoryID,
                to: runPath(101), fileSystem: fileSystem)
            let partial = try openRun(101, fileSystem: fileSystem).entries()
            #expect(differingKeys(load(batches.dropLast(newest) + [partial]), model) == [], "seed \(seed), newest \(newest) runs merged")
        }

        @Test func theNewestRunWinsAndTombstonesShadowUntilDropped() throws {
            let fileSystem = extentsFileSystem()
            _ = try writeRun([entry("a", "old", seqno: 1), entry("b", "old", seqno: 2), entry("c", "old", seqno: 3)], generation: 1, fileSystem: fileSystem)
            _ = try writeRun([entry("a", "new", seqno: 4), entry("b", nil, seqno: 5), entry("d", nil, seqno: 6)], generation: 2, fileSystem: fileSystem)
            let newestFirst = [try openRun(2, fileSystem: fileSystem), try openRun(1, fileSystem: fileSystem)]

            let kept = try ExtentMerger.merge(
                newestFirst, generation: 3, dropTombstones: false, repositoryID: repositoryID, to: runPath(3), fileSystem: fileSystem)
            #expect(try openRun(3, fileSystem: fileSystem).entries() == [
                entry("a", "new", seqno: 4), entry("b", nil, seqno: 5), entry("c", "old", seqno: 3), entry("d", nil, seqno: 6),
            ])
            #expect(kept.tombstoneCount == 2 && kept.minSeqno == Seqno(3) && kept.maxSeqno == Seqno(6))

            _ = try ExtentMerger.merge(
                newestFirst, generation: 4, dropTombstones: true, repositoryID: repositoryID, to: runPath(4), fileSystem: fileSystem)
            #expect(try openRun(4, fileSystem: fileSystem).entries() == [entry("a", "new", seqno: 4), entry("c", "old", seqno: 3)])
        }

        @Test func aDamagedInputFailsTheMergeAndLeavesNoRun() throws {
            let fileSystem = extentsFileSystem()
            _ = try writeRun(CorruptionTests.entries, generation: 1, fileSystem: fileSystem)
            var bytes = fileSystem.contents(of: runPath(1))!
            bytes[ExtentFormat.headerBytes + ExtentFormat.blockHeaderBytes + 10] ^= 0x01
            fileSystem.overwrite(runPath(1), with: bytes)
            let damaged = try openRun(1, fileSystem: fileSystem)
            expectExtentError({
                _ = try ExtentMerger.merge(
                    [damaged], generation: 2, dropTombstones: true, repositoryID: repositoryID, to: runPath(2), fileSystem: fileSystem)
            }) { if case .corrupt(_, .block(0), _, _) = $0 { true } else { false } }
            #expect(try fileSystem.contentsOfDirectory(extents) == ["extent-000001.dbf"])
        }
    }
}
