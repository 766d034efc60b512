import Foundation
import Testing
import Tranlog
import UnderstudyTesting

/// The commit path's parts that keep work away from the writer's lock and flush thread: records
/// encoded before their position is known, and completions run on a thread of their own.
@Suite struct CommitPathTests {
    @Test func theCRCOfTwoRunsCombinesFromTheirOwnCRCs() {
        var random = SeededRandom(seed: 7)
        for length in [0, 1, 36, 1000] {
            let first = (0..<36).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let second = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(Checksum.combine(Checksum.crc32(first), Checksum.crc32(second), secondLength: length) == Checksum.crc32(first + second))
        }
    }

    @Test func aFramePreparedBeforeItsPositionIsTheFrameEncodedAtIt() throws {
        let body = putCommit(3, valueBytes: 300)
        let prepared = RecordFrame.prepare(body, sourceID: testSource)
        for seqno in [Seqno(1), Seqno(987_654)] {
            let header = RecordHeader(
                kind: .commit, seqno: seqno, epoch: Epoch(3), time: Timestamp(rawValue: 1_700_000_000_000_000), sourceID: testSource,
                previousCRC: 0xDEAD_BEEF)
            let encoded = RecordFrame.encode(header, body)
            let appended = try writtenFrame(prepared, seqno: seqno)
            #expect(encoded.bytes.count == prepared.length)
            guard case .record(let decoded) = RecordFrame.decode(encoded.bytes[...]) else {
                Issue.record("the encoded frame does not decode")
                continue
            }
            #expect(decoded.header == header && decoded.body == body && decoded.crc == encoded.crc)
            #expect(appended.body == body && appended.seqno == seqno, "the writer placed the prepared frame intact")
        }
    }

    /// Writes `prepared` as the record with `seqno` (after seqno - 1 empty commits would be slow for
    /// large seqnos, so the log starts just before it) and reads it back.
    private func writtenFrame(_ prepared: PreparedFrame, seqno: Seqno) throws -> TranlogRecord {
        let fileSystem = emptyLogFileSystem()
        let start = ChainStart(fileID: .first, epoch: .first, previousLastSeqno: Seqno(seqno.rawValue - 1), previousLastRecordCRC: 0)
        let writer = try TranlogWriter(configuration: writerConfiguration(), fileSystem: fileSystem, startIfEmpty: start)
        let log = CompletionLog()
        writer.append(prepared, completion: log.completion)
        _ = log.waitFor(1)
        try writer.close()
        return try #require(try readLog(fileSystem).records.last)
    }

    @Test func aSlowCompletionDoesNotHoldBackTheNextBatchsSync() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try WriterTests.openWriter(fileSystem)
        let order = CompletionLog()
        let releaseFirst = Self.holdCompletionThread(writer, logging: order)

        // While the first record's completion is still running, the next record reaches its sync.
        fileSystem.pauseSyncs()
        writer.append(putCommit(1), completion: order.completion)
        #expect(fileSystem.waitForPausedSyncs(1), "the flush thread waited for a completion")
        fileSystem.resumeSyncs()
        releaseFirst.signal()

        let seqnos = try order.waitFor(2).map { try $0.get().seqno }
        #expect(seqnos == [Seqno(1), Seqno(2)], "completions still run in log order")
        try writer.close()
    }

    /// A caller may hold the completion thread for as long as it likes: the flush thread syncs batch
    /// after batch meanwhile, and their callers are told after the slow one, in log order.
    @Test func whileOneCallerIsSlowTheFlushThreadKeepsSyncing() throws {
        let writer = try WriterTests.openWriter(emptyLogFileSystem())
        let order = CompletionLog()
        let releaseFirst = Self.holdCompletionThread(writer, logging: order)

        for index in 1...4 {
            let record = try #require(writer.append(putCommit(index), completion: order.completion))
            #expect(Self.waitUntilDurable(record.seqno, in: writer), "batch \(index + 1) was not synced while the first caller was held")
        }
        #expect(order.count == 0, "no caller is told before the first one")
        releaseFirst.signal()

        let seqnos = try order.waitFor(5).map { try $0.get().seqno }
        #expect(seqnos == (1...5).map { Seqno(UInt64($0)) }, "completions still run in log order")
        try writer.close()
    }

    /// Appends a first record whose completion holds the completion thread until the semaphore
    /// returned is signalled, then logs to `order`; returns once the thread is held.
    private static func holdCompletionThread(_ writer: TranlogWriter, logging order: CompletionLog) -> DispatchSemaphore {
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        writer.append(putCommit(0)) { result in
            holding.signal()
            release.wait()
            order.completion(result)
        }
        #expect(holding.wait(timeout: .now() + 30) == .success)
        return release
    }

    /// No completion tells of durability while a caller holds the completion thread, so this reads
    /// the writer's durable position until it reaches `seqno` (false after 30 s).
    private static func waitUntilDurable(_ seqno: Seqno, in writer: TranlogWriter) -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while writer.lastDurableSeqno < seqno {
            guard ContinuousClock.now < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return true
    }
}
