import Testing
import Tranlog
import UnderstudyTesting

/// The stream decoder must produce the same records however the bytes are cut (swift-nio's
/// ByteToMessageDecoderVerifier idea): all at once, byte by byte, in random pieces.
@Suite struct FrameDecoderTests {
    static func frames(count: Int) -> (bytes: [UInt8], seqnos: [Seqno]) {
        var bytes: [UInt8] = []
        var previousCRC: UInt32 = 0
        for index in 0..<count {
            let header = RecordHeader(
                kind: .commit, seqno: Seqno(UInt64(index + 1)), epoch: .first, time: Timestamp(rawValue: Int64(index)),
                sourceID: testSource, previousCRC: previousCRC)
            let (frame, crc) = RecordFrame.encode(header, putCommit(index, valueBytes: index * 7))
            bytes += frame
            previousCRC = crc
        }
        return (bytes, (1...count).map { Seqno(UInt64($0)) })
    }

    static func decodeAll(_ pieces: [ArraySlice<UInt8>]) throws -> (seqnos: [Seqno], leftover: Int) {
        var decoder = FrameDecoder()
        var seqnos: [Seqno] = []
        for piece in pieces {
            decoder.feed(piece)
            while let record = try decoder.next() { seqnos.append(record.header.seqno) }
        }
        return (seqnos, decoder.bufferedByteCount)
    }

    @Test func allAtOnceByteByByteAndRandomPieces() throws {
        let (bytes, expected) = Self.frames(count: 40)
        let seed = testSeed()
        print("FrameDecoderTests seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        var random = SeededRandom(seed: seed)
        var randomPieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 1 + Int(random.next() % 300))
            randomPieces.append(bytes[start..<end])
            start = end
        }
        let cuts: [[ArraySlice<UInt8>]] = [[bytes[...]], bytes.indices.map { bytes[$0...$0] }, randomPieces]
        for pieces in cuts {
            let result = try Self.decodeAll(pieces)
            #expect(result.seqnos == expected)
            #expect(result.leftover == 0)
        }
    }

    @Test func incompleteFrameIsLeftOverNotAnError() throws {
        let (bytes, expected) = Self.frames(count: 3)
        let result = try Self.decodeAll([bytes.dropLast(5)])
        #expect(result.seqnos == Array(expected.prefix(2)))
        #expect(result.leftover > 0)
    }

    @Test func corruptFrameFailsAndStaysFailed() throws {
        var (bytes, _) = Self.frames(count: 3)
        bytes[bytes.count - 10] ^= 0x01
        var decoder = FrameDecoder()
        decoder.feed(bytes)
        _ = try decoder.next()
        _ = try decoder.next()
        #expect(throws: FrameDefect.self) { try decoder.next() }
        #expect(throws: FrameDefect.self) { try decoder.next() }
    }

    @Test(arguments: [
        (UInt32(0), "outside"), (UInt32(12), "outside"), (UInt32.max, "outside"),
    ])
    func impossibleLengthsAreRefusedBeforeAllocating(length: UInt32, fragment: String) {
        var decoder = FrameDecoder()
        decoder.feed(withUnsafeBytes(of: length.littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 60))
        do {
            _ = try decoder.next()
            Issue.record("length \(length) accepted")
        } catch {
            #expect(error.description.contains(fragment))
        }
    }

    @Test func limitsAreEnforcedOnWrite() {
        let oversizedKey = RecordBody.commit([.put(key: [UInt8](repeating: 1, count: TranlogLimits.maxKeyBytes + 1), value: [])])
        #expect(oversizedKey.limitViolation?.contains("key of 1025 bytes") == true)
        let oversizedValue = RecordBody.commit([.put(key: [1], value: [UInt8](repeating: 0, count: TranlogLimits.maxValueBytes + 1))])
        #expect(oversizedValue.limitViolation?.contains("value of") == true)
        #expect(RecordBody.commit([]).limitViolation != nil)
        #expect(RecordBody.commit([.delete(key: [])]).limitViolation == "operation 0: empty key")
    }
}
