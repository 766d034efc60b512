import Foundation
import Testing
import Tranlog
import UnderstudyTesting

/// The writer's in-memory copy of its newest durable frames: what a shipper reads instead of the
/// files. Every answer is checked against the files the writer wrote.
@Suite struct RecentFramesTests {
    /// Writes `commits` one at a time with `buffer` attached; small files, so the log rotates.
    private func write(_ commits: Int, into buffer: RecentFrames, _ fileSystem: SimulatedFileSystem) throws -> [AppendedRecord] {
        let writer = try WriterTests.openWriter(fileSystem, rotationBytes: 2048)
        writer.keepRecentFrames(in: buffer)
        defer { try? writer.close() }
        return try (0..<commits).map { try writer.appendAndWait(putCommit($0)) }
    }

    /// Follows the log from its first record through the buffer only, as a shipper does: every frame
    /// and file header must be the bytes in the files.
    @Test func followingTheBufferYieldsTheFilesBytesAcrossRotations() throws {
        let fileSystem = emptyLogFileSystem()
        let buffer = RecentFrames()
        let records = try write(60, into: buffer, fileSystem)
        #expect(buffer.durableSeqno == records.last?.seqno)
        let files = Set(records.map(\.eventID.fileID))
        #expect(files.count > 2, "the log rotated")
        var position = records[0].eventID
        var shipped: [Seqno] = []
        following: while true {
            switch buffer.next(after: position, maxBytes: 300) {
            case .frames(let frames):
                let file = fileSystem.contents(of: path(frames.fileID.rawValue))!
                #expect(Array(file[Int(frames.offset)..<Int(frames.end)]) == frames.bytes)
                #expect(frames.headers.reduce(0) { $0 + $1.length } == frames.bytes.count)
                #expect(frames.bytes.count <= 300 || frames.headers.count == 1, "about maxBytes, at least one frame")
                shipped += frames.headers.filter { $0.kind == .commit }.map(\.seqno)
                position = EventID(fileID: frames.fileID, offset: frames.end)
            case .nextFile(let fileID, let header):
                #expect(Array(fileSystem.contents(of: path(fileID.rawValue))!.prefix(FileHeader.size)) == header)
                #expect(fileID == position.fileID.next)
                position = EventID(fileID: fileID, offset: UInt64(FileHeader.size))
            case .caughtUp:
                break following
            case .notHeld:
                Issue.record("\(position) is not held, though everything fits")
                return
            }
        }
        #expect(shipped == records.map(\.seqno))
    }

    @Test func aPositionBeforeTheOldestBatchKeptIsNotHeld() throws {
        let fileSystem = emptyLogFileSystem()
        let buffer = RecentFrames(capacityBytes: 500)
        let records = try write(40, into: buffer, fileSystem)
        guard case .notHeld = buffer.next(after: records[0].eventID, maxBytes: 1 << 20) else {
            Issue.record("the first record was dropped to keep 500 bytes, yet it is reported held")
            return
        }
        guard case .frames(let frames) = buffer.next(after: records.last!.eventID, maxBytes: 1 << 20) else {
            Issue.record("the newest record must be held")
            return
        }
        #expect(frames.headers.map(\.seqno) == [records.last!.seqno])
    }

    @Test func aNewWriterEmptiesTheBufferAndItsObserverHearsEachDurableBatch() throws {
        let fileSystem = emptyLogFileSystem()
        let buffer = RecentFrames()
        let batches = Counter()
        buffer.observe { batches.increment() }
        let first = try write(3, into: buffer, fileSystem)
        #expect(batches.value == 3, "one durable batch per commit written one at a time")
        let writer = try WriterTests.openWriter(fileSystem, rotationBytes: 2048)
        defer { try? writer.close() }
        writer.keepRecentFrames(in: buffer)
        #expect(buffer.durableSeqno == nil)
        guard case .notHeld = buffer.next(after: first[0].eventID, maxBytes: 1 << 20) else {
            Issue.record("frames of the previous writer are still served")
            return
        }
    }
}

extension RecentFramesTests {
    /// A copy cuts the last tranlog at `durableEnd`: the end of the file as synced, from the moment the
    /// writer attaches the buffer (nothing unsynced then) through every batch and rotation.
    @Test func theDurableEndIsTheEndOfTheSyncedFile() throws {
        let fileSystem = emptyLogFileSystem()
        let buffer = RecentFrames()
        let records = try write(30, into: buffer, fileSystem)
        let end = try #require(buffer.durableEnd)
        #expect(end.fileID == records.last!.eventID.fileID)
        #expect(end.offset == records.last!.eventID.offset + UInt64(records.last!.frameLength))
        let writer = try WriterTests.openWriter(fileSystem, rotationBytes: 2048)
        defer { try? writer.close() }
        writer.keepRecentFrames(in: buffer)
        let reopened = try #require(buffer.durableEnd, "a writer with nothing unsynced knows its end")
        #expect(reopened.fileID == writer.currentFileID)
        #expect(reopened.offset == UInt64(fileSystem.contents(of: path(writer.currentFileID.rawValue))!.count))
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
