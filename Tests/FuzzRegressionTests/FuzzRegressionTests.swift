import Foundation
import FuzzTargets
import Testing

/// What the fuzz targets promise on every run of the suite, without the fuzzer: valid inputs decode
/// whole; damaged ones never crash, and what is refused is refused with a reason; inputs the fuzzer
/// once found to crash or hang stay fixed.
@Suite struct FuzzRegressionTests {
    static let seeds = Result { try FuzzSeeds.all() }

    @Test(arguments: FuzzTarget.allCases)
    func seedsDecodeWholeWithoutARejection(target: FuzzTarget) throws {
        let seeds = try #require(try Self.seeds.get()[target], "no seeds for \(target)")
        #expect(!seeds.isEmpty)
        for seed in seeds {
            let outcome = target.run(seed.bytes)
            #expect(outcome.rejection == nil, "\(target) seed \(seed.name): \(outcome.rejection ?? "")")
            #expect(outcome.decoded > 0, "\(target) seed \(seed.name) decoded nothing")
        }
    }

    /// Every prefix, and a bit flipped at every byte (a different bit each time): nothing crashes, and
    /// a rejection always says something.
    @Test(arguments: FuzzTarget.allCases)
    func damagedSeedsNeverCrashAndRejectionsSaySomething(target: FuzzTarget) throws {
        for seed in try #require(try Self.seeds.get()[target]) {
            for damaged in Self.damaged(seed.bytes) {
                let outcome = target.run(damaged)
                if let rejection = outcome.rejection { #expect(!rejection.isEmpty, "\(target) \(seed.name)") }
            }
        }
    }

    /// Records and replication messages carry CRCs: one flipped bit anywhere in a frame or message is
    /// never taken for the original.
    @Test(arguments: [(FuzzTarget.tranlogFrames, "frames"), (.replicationMessages, "stream")])
    func aFlippedBitIsNeverTakenForTheOriginal(target: FuzzTarget, seedName: String) throws {
        let seed = try #require(try Self.seeds.get()[target]?.first { $0.name == seedName }).bytes
        let original = target.run(seed)
        for index in seed.indices {
            var flipped = seed
            flipped[index] ^= 1 << UInt8(index % 8)
            #expect(target.run(flipped) != original, "a flip at byte \(index) of \(seedName) went unnoticed")
        }
    }

    /// `Inputs/TARGET/`: bad inputs kept for good — shapes of attack (a 4 GiB length, a header over
    /// the limit) and whatever the fuzzer ever found to crash or hang a target. Each is refused, with
    /// a reason.
    @Test(arguments: FuzzTarget.allCases)
    func keptBadInputsAreRefusedWithAReason(target: FuzzTarget) throws {
        let folder = try #require(Bundle.module.url(forResource: "Inputs", withExtension: nil)).appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(!files.isEmpty, "no kept inputs for \(target)")
        for file in files {
            let outcome = target.run(Array(try Data(contentsOf: file)))
            #expect(outcome.rejection.map { !$0.isEmpty } == true, "\(target) accepted \(file.lastPathComponent): \(outcome)")
        }
    }

    private static func damaged(_ bytes: [UInt8]) -> [[UInt8]] {
        let prefixes = (0..<bytes.count).map { Array(bytes[..<$0]) }
        let flips = bytes.indices.map { index in
            var copy = bytes
            copy[index] ^= 1 << UInt8((index * 5) % 8)
            return copy
        }
        return prefixes + flips
    }
}
