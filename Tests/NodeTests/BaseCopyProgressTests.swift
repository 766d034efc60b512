import Replication
import Testing

@testable import Node

/// The terminal line of a base copy: bytes, percentage, rate and ETA.
@Suite struct BaseCopyProgressTests {
    @Test func aCopyUnderWayShowsItsRateAndETA() {
        let progress = BaseCopyClient.Progress(receivedBytes: 30 * 1_048_576, totalBytes: 120 * 1_048_576)
        #expect(BaseCopyProgress.line(progress, elapsed: .seconds(3)) == "base copy: 30.0 MiB of 120.0 MiB (25%), 10.0 MiB/s, ETA 9 s")
    }

    @Test func smallSizesAreInKiB() {
        let progress = BaseCopyClient.Progress(receivedBytes: 512, totalBytes: 2048)
        #expect(BaseCopyProgress.line(progress, elapsed: .seconds(1)) == "base copy: 0.5 KiB of 2.0 KiB (25%), 0.5 KiB/s, ETA 3 s")
    }

    @Test func aResumedCopysRateCountsOnlyTheBytesOfThisAttempt() {
        let progress = BaseCopyClient.Progress(receivedBytes: 100 * 1_048_576, totalBytes: 120 * 1_048_576)
        #expect(
            BaseCopyProgress.line(progress, since: 90 * 1_048_576, elapsed: .seconds(2))
                == "base copy: 100.0 MiB of 120.0 MiB (83%), 5.0 MiB/s, ETA 4 s")
    }

    @Test func nothingReceivedYetHasNoETA() {
        let progress = BaseCopyClient.Progress(receivedBytes: 0, totalBytes: 4096)
        #expect(BaseCopyProgress.line(progress, elapsed: .zero) == "base copy: 0.0 KiB of 4.0 KiB (0%), 0.0 KiB/s, ETA ?")
    }
}
