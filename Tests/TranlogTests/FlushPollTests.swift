import Testing
@testable import Tranlog
import UnderstudyTesting

/// With a poll budget, the flush thread looks for the next record (or the close) for a while after
/// each sync instead of sleeping at once.
@Suite struct FlushPollTests {
    /// A budget far longer than the test: a record the poll did not notice would wait for it.
    private static let budget: Duration = .seconds(120)

    @Test func eachRecordAppendedAfterTheLastSyncIsFoundByThePoll() throws {
        let writer = try Self.openWriter(pollBudget: Self.budget)
        let appending = BackgroundWork { () throws(TranlogError) in
            for index in 0..<5 { _ = try writer.appendAndWait(putCommit(index)) }
        }
        #expect(appending.finished(within: 60), "a record waited for the poll's end")
        #expect(throws: Never.self) { try appending.result?.get() }
        // The flush thread polls from its start too, so each record, the first included, came while it polled.
        #expect(writer.batchesFoundPolling == 5)
        try writer.close()
    }

    @Test func aCloseEndsThePoll() throws {
        let writer = try Self.openWriter(pollBudget: Self.budget)
        _ = try writer.appendAndWait(putCommit(1))
        let closing = BackgroundWork { () throws(TranlogError) in try writer.close() }
        #expect(closing.finished(within: 60), "close waited for the flush thread's poll to end")
    }

    @Test func withoutABudgetTheFlushThreadNeverPolls() throws {
        let writer = try Self.openWriter(pollBudget: .zero)
        for index in 0..<5 { _ = try writer.appendAndWait(putCommit(index)) }
        #expect(writer.batchesFoundPolling == 0)
        try writer.close()
    }

    private static func openWriter(pollBudget: Duration) throws -> TranlogWriter {
        var configuration = writerConfiguration(rotationBytes: 1 << 20)
        configuration.pollBudget = pollBudget
        return try TranlogWriter(configuration: configuration, fileSystem: emptyLogFileSystem(), startIfEmpty: .newRepository)
    }
}
