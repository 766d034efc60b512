import Foundation
import SystemPackage
import Repository
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Replication

/// A primary writing into preallocated files (FORMATS 1.7): the shipper sends exactly the records,
/// never the zeros after them, and never decodes past the durable seqno, where a frame being written
/// over zeros can be seen half-written.
@Suite struct PreallocatedShippingTests {
    @Test func shipsRecordsButNotTheZerosAndIgnoresAFrameBeingWritten() throws {
        let harness = try ReplicationHarness(preallocating: true)
        try harness.primary.commit(60)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        expectIdentical(harness.standbyFiles, withoutZeroTail(harness.primary.files))

        // What a concurrent reader can see while the flush thread writes the next frame: its first
        // bytes over the zeros, not durable yet. Shipping must neither send nor refuse it.
        let newest = try #require(TranlogDirectory.scan(primaryDirectory, fileSystem: harness.primary.fileSystem).files.last)
        let bytes = try #require(harness.primary.fileSystem.contents(of: newest.path))
        let dataEnd = dataLength(bytes)
        #expect(dataEnd < bytes.count, "the newest file was rotated into and has a zero tail")
        let writing = try harness.primary.fileSystem.openForOverwrite(newest.path, at: UInt64(dataEnd))
        try writing.append([0x70, 0, 0, 0, 1, 0, 9, 0])
        harness.shippers.forEach { $0.logAdvanced() }
        harness.loop.run()
        #expect(harness.standbyFiles[newest.path.lastComponent!.string]?.count == dataEnd)

        // The writer overwrites those bytes with its next records, which then ship.
        try harness.primary.commit(5)
        harness.shippers.forEach { $0.logAdvanced() }
        harness.loop.run()
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        expectIdentical(harness.standbyFiles, withoutZeroTail(harness.primary.files))
        #expect(harness.shippers.count == 1, "the standby never had to reconnect")
    }

    /// The bytes a file's records take: a zero tail (only ever after the last record) cut off.
    private func dataLength(_ bytes: [UInt8]) -> Int {
        var offset = FileHeader.size
        while case .record(let record) = RecordFrame.decode(bytes[offset...]) { offset += record.frame.count }
        return offset
    }

    private func withoutZeroTail(_ files: [String: [UInt8]]) -> [String: [UInt8]] {
        files.mapValues { Array($0[..<dataLength($0)]) }
    }
}
