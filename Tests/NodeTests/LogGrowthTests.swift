import Repository
import Testing
import Tranlog
@testable import Node

/// The runway's rate: growth of the files between samples, a removed file not counted as shrinking.
@Suite struct LogGrowthTests {
    static func files(_ sizes: [UInt64: UInt64]) -> [RetainedFile] {
        sizes.map { RetainedFile(fileID: FileID($0.key), path: "tranlog\($0.key).dbf", bytes: $0.value) }
    }

    @Test func growthIsTheBytesAddedPerSecondOverTheWindow() {
        var growth = LogGrowth(window: .seconds(60))
        let start = ContinuousClock.now
        growth.sample(Self.files([1: 1000, 2: 500]), at: start)
        #expect(growth.bytesPerSecond(at: start) == nil)
        growth.sample(Self.files([1: 1000, 2: 1500]), at: start + .seconds(1))
        growth.sample(Self.files([2: 1500, 3: 2000]), at: start + .seconds(2))  // tranlog1 purged, tranlog3 new
        #expect(growth.bytesPerSecond(at: start + .seconds(2)) == 1500)
    }

    @Test func oldSamplesLeaveTheWindow() {
        var growth = LogGrowth(window: .seconds(10))
        let start = ContinuousClock.now
        growth.sample(Self.files([1: 0]), at: start)
        growth.sample(Self.files([1: 100_000]), at: start + .seconds(1))
        growth.sample(Self.files([1: 100_000]), at: start + .seconds(20))
        #expect(growth.bytesPerSecond(at: start + .seconds(20)) == 0)
    }
}
