import Node
import Repository
import SystemPackage
import Testing

/// The node's one polling setting is checked under its own name, not as the transport's or the
/// repository's field it feeds.
@Suite struct BusyPollConfigurationTests {
    @Test func aNegativeBusyPollIsRefusedNamingItsFlag() {
        var configuration = NodeConfiguration(dataDirectory: DataDirectory(FilePath("/nonexistent")))
        #expect(configuration.validate() == nil)
        configuration.busyPoll = .microseconds(-1)
        #expect(configuration.validate() == "--busy-poll-us must not be negative")
        configuration.busyPoll = .zero
        #expect(configuration.validate() == nil)
    }
}
