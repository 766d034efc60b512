import Testing
@testable import Tranlog

/// The chain rule from frame headers alone: one case per rule, each with the break it names.
struct LogChainTests {
    private let file = FileHeader(
        repositoryID: testRepository, fileID: FileID(3), epoch: Epoch(2), creationTime: Timestamp(rawValue: 0),
        previousLastSeqno: Seqno(10), previousLastRecordCRC: 0xAAAA)

    private func frame(_ seqno: UInt64, kind: RecordKind = .commit, epoch: UInt64 = 2, previousCRC: UInt32, crc: UInt32 = 0xBBBB,
        epochBegin: EpochBeginInfo? = nil) -> FrameHeader {
        FrameHeader(
            length: 64, kind: kind, seqno: Seqno(seqno), epoch: Epoch(epoch), time: Timestamp(rawValue: 0), previousCRC: previousCRC,
            crc: crc, sourceLength: 4, epochBegin: epochBegin)
    }

    @Test func recordRulesNameTheirBreak() {
        let chain = LogChain(in: file, lastSeqno: Seqno(10), lastCRC: 0xAAAA, lastEpoch: Epoch(2), sawFileEnd: false, fileHasRecords: true)
        #expect(chain.recordBreak(frame(11, previousCRC: 0xAAAA)) == nil)
        #expect(chain.recordBreak(frame(12, previousCRC: 0xAAAA)) == .unexpectedSeqno(expected: Seqno(11)))
        #expect(chain.recordBreak(frame(11, previousCRC: 0x1234)) == .brokenCRC(follows: 0x1234, last: 0xAAAA))
        #expect(chain.recordBreak(frame(11, epoch: 3, previousCRC: 0xAAAA)) == .epochOutsideFile(Epoch(3), fileEpoch: Epoch(2)))
        var ended = chain
        ended.append(frame(11, kind: .fileEnd, previousCRC: 0xAAAA))
        #expect(ended.recordBreak(frame(12, previousCRC: 0xBBBB)) == .followsFileEnd)
    }

    @Test func anEpochChangesOnlyThroughAFirstEpochBeginNamingItsParent() {
        let begin = EpochBeginInfo(epoch: Epoch(2), parentEpoch: Epoch(1), forkSeqno: Seqno(10))
        let chain = LogChain(in: file, lastSeqno: Seqno(10), lastCRC: 0xAAAA, lastEpoch: Epoch(1), sawFileEnd: false, fileHasRecords: false)
        #expect(chain.recordBreak(frame(11, kind: .epochBegin, previousCRC: 0xAAAA, epochBegin: begin)) == nil)
        #expect(chain.recordBreak(frame(11, previousCRC: 0xAAAA)) == .epochChangeWithoutBegin(from: Epoch(1), to: Epoch(2)))
        let orphan = EpochBeginInfo(epoch: Epoch(2), parentEpoch: Epoch(7), forkSeqno: Seqno(10))
        #expect(chain.recordBreak(frame(11, kind: .epochBegin, previousCRC: 0xAAAA, epochBegin: orphan)) == .wrongParent(orphan, lastEpoch: Epoch(1)))
        var later = chain
        later.append(frame(11, kind: .epochBegin, previousCRC: 0xAAAA, epochBegin: begin))
        let second = EpochBeginInfo(epoch: Epoch(3), parentEpoch: Epoch(2), forkSeqno: Seqno(11))
        #expect(later.recordBreak(frame(12, kind: .epochBegin, epoch: 2, previousCRC: 0xBBBB, epochBegin: second)) == .epochBeginNotFirst)
    }

    @Test func filesJoinByHeader() {
        var chain = LogChain(in: file, lastSeqno: Seqno(10), lastCRC: 0xAAAA, lastEpoch: nil, sawFileEnd: false, fileHasRecords: false)
        chain.append(frame(11, previousCRC: 0xAAAA, crc: 0xC0))
        let sameEpoch = { (fileID: UInt64, crc: UInt32) in
            FileHeader(repositoryID: testRepository, fileID: FileID(fileID), epoch: Epoch(2), creationTime: Timestamp(rawValue: 0),
                previousLastSeqno: Seqno(12), previousLastRecordCRC: crc)
        }
        #expect(chain.joinBreak(sameEpoch(4, 0xC1)) == .noFileEnd(FileID(3)))
        chain.append(frame(12, kind: .fileEnd, previousCRC: 0xC0, crc: 0xC1))
        #expect(chain.joinBreak(sameEpoch(4, 0xC1)) == nil)
        #expect(chain.joinBreak(sameEpoch(5, 0xC1)) == .fileSkipped(after: FileID(3)))
        #expect(chain.joinBreak(sameEpoch(4, 0xFF)) == .brokenJoin(lastSeqno: Seqno(12), lastCRC: 0xC1))
        #expect(chain.joinBreak(sameEpoch(3, 0xC1)) == .fileIDNotAfter(FileID(3)))
        let newEpoch = FileHeader(repositoryID: testRepository, fileID: FileID(9), epoch: Epoch(3), creationTime: Timestamp(rawValue: 0),
            previousLastSeqno: Seqno(12), previousLastRecordCRC: 0xC1)
        #expect(chain.joinBreak(newEpoch) == nil)
        var branched = newEpoch
        branched.previousLastSeqno = Seqno(11)
        #expect(chain.joinBreak(branched) == .forkInTime(epoch: Epoch(2)))
        var older = newEpoch
        older.epoch = Epoch(1)
        #expect(chain.joinBreak(older) == .epochGoesBack(from: Epoch(2)))
    }

    @Test func aFrameHeaderIsReadWithoutItsBodyAndAgreesWithTheDecodedRecord() throws {
        let header = RecordHeader(kind: .commit, seqno: Seqno(5), epoch: Epoch(1), time: Timestamp(rawValue: 9), sourceID: SourceID("node-a")!, previousCRC: 7)
        let (bytes, crc) = RecordFrame.encode(header, putCommit(1))
        guard case .header(let read) = RecordFrame.readHeader(bytes[...]), case .record(let decoded) = RecordFrame.decode(bytes[...]) else {
            Issue.record("the frame does not read back")
            return
        }
        #expect(read == decoded.frameHeader)
        #expect(read.crc == crc && read.length == bytes.count)
        var corrupt = bytes
        corrupt[40] ^= 1
        guard case .invalid(.checksumMismatch) = RecordFrame.readHeader(corrupt[...]) else { Issue.record("a flipped body byte passed"); return }
    }

    /// The body decoder reuses the last source id while its bytes repeat: frames whose source ids
    /// differ only in their last byte, or in length, each decode to their own.
    @Test func theBodyDecoderKeepsEachFramesOwnSourceID() throws {
        var decoder = FrameBodyDecoder()
        for (index, name) in ["node-a", "node-a", "node-b", "node-bb", "node-b", "node-a"].enumerated() {
            let header = RecordHeader(
                kind: .commit, seqno: Seqno(UInt64(index + 1)), epoch: Epoch(1), time: Timestamp(rawValue: 9), sourceID: SourceID(name)!,
                previousCRC: 7)
            let (bytes, _) = RecordFrame.encode(header, putCommit(index))
            guard case .header(let read) = RecordFrame.readHeader(bytes[...]), case .record(let decoded) = decoder.decode(bytes[...], header: read) else {
                Issue.record("frame \(index) does not decode")
                return
            }
            #expect(decoded.header.sourceID.name == name, "frame \(index)")
        }
    }
}
