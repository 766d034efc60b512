import Foundation
import Replication

extension LogShipper.Configuration {
    /// The defaults, except for test-only knobs read from the environment:
    /// `UNDERSTUDY_TEST_BASE_COPY_CHUNK_BYTES` and `UNDERSTUDY_TEST_BASE_COPY_CHUNK_DELAY_MS` slow a
    /// base copy down so that a test can interrupt it midway; `UNDERSTUDY_TEST_BASE_COPY_RESUME_WINDOW_MS`
    /// shortens how long a cut copy's pin waits for a resume, so a test sees it released; `UNDERSTUDY_TEST_HANDSHAKE_TIMEOUT_MS`
    /// lengthens the wait for a hello, so that a test's idle connections are dropped by the pending
    /// limit alone, however slow the machine. Operators never set them.
    static var fromEnvironment: Self {
        var configuration = Self()
        let environment = ProcessInfo.processInfo.environment
        if let bytes = environment["UNDERSTUDY_TEST_BASE_COPY_CHUNK_BYTES"].flatMap(Int.init), bytes > 0 {
            configuration.baseCopyChunkBytes = bytes
        }
        if let milliseconds = environment["UNDERSTUDY_TEST_BASE_COPY_CHUNK_DELAY_MS"].flatMap(Int.init), milliseconds > 0 {
            configuration.baseCopyChunkDelay = .milliseconds(milliseconds)
        }
        if let milliseconds = environment["UNDERSTUDY_TEST_BASE_COPY_RESUME_WINDOW_MS"].flatMap(Int.init), milliseconds > 0 {
            configuration.baseCopyResumeWindow = .milliseconds(milliseconds)
        }
        if let milliseconds = environment["UNDERSTUDY_TEST_HANDSHAKE_TIMEOUT_MS"].flatMap(Int.init), milliseconds > 0 {
            configuration.handshakeTimeout = .milliseconds(milliseconds)
        }
        return configuration
    }
}
