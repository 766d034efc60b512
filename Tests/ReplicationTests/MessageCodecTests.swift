import Testing
import Tranlog

@testable import Replication

/// One of every message, with every optional field both present and absent.
private func sampleMessages() -> [ReplicationMessage] {
    let header = FileHeader(
        repositoryID: testRepository, fileID: FileID(3), epoch: Epoch(2), creationTime: startOfTime,
        previousLastSeqno: Seqno(41), previousLastRecordCRC: 0xdead_beef
    ).encode()
    let frames = (0..<20).flatMap { index in
        RecordFrame.encode(
            RecordHeader(kind: .commit, seqno: Seqno(42 + UInt64(index)), epoch: Epoch(2), time: startOfTime, sourceID: primarySource, previousCRC: 7),
            .commit([.put(key: Array("key".utf8), value: Array(repeating: 0x61, count: 200))])
        ).bytes
    }
    let hello = Hello(
        repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: Seqno(12)),
        recordCRC: 0x1234_5678, mirrorEnd: EventID(fileID: FileID(2), offset: 4096), history: firstEpochHistory,
        challenge: Array(100..<132), proof: Array(repeating: 9, count: 32))
    var emptyMirrorHello = hello
    emptyMirrorHello.mirrorEnd = nil
    return [
        .challenge(Array(0..<32)),
        .hello(hello),
        .hello(emptyMirrorHello),
        .foreignHello(protocolVersion: 7),
        .welcome(
            WelcomeProof.sign(
                Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(99)), history: firstEpochHistory),
                challenge: Array(0..<32), key: sharedKey)),
        .welcome(
            WelcomeProof.sign(
                Welcome(
                    repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(99)), history: firstEpochHistory,
                    standing: SynchronousStanding(notice: 9, required: .init(level: .received, since: startOfTime, fallbackAfter: nil))),
                challenge: Array(0..<32), key: sharedKey)),
        .reject(.wrongKey),
        .reject(.otherRepository(primary: testRepository, standby: otherRepository)),
        .reject(.protocolVersion(primary: 1, standby: 2)),
        .reject(.forkInTime(primary: forkedHistory(), standby: firstEpochHistory, forkSeqno: Seqno(11))),
        .reject(.divergentRecord(seqno: Seqno(5), primaryCRC: 1, standbyCRC: 2)),
        .reject(.mirrorMismatch(primary: EventID(fileID: FileID(2), offset: 128), standby: EventID(fileID: FileID(2), offset: 300))),
        .reject(.logsRemoved(needed: Seqno(1), oldestAvailable: Seqno(40))),
        .reject(.logsRemoved(needed: Seqno(1), oldestAvailable: nil)),
        .reject(.standbyAhead(standby: Seqno(9), primary: Seqno(3))),
        .reject(.notPrimary),
        .reject(.fenced(detail: "fenced: epoch 2 began at seqno 11 on db2-standby-3fa9c1")),
        .fileStart(header: header),
        .records(RecordBatch(firstEventID: EventID(fileID: FileID(3), offset: 128), frames: frames)),
        .heartbeat(Heartbeat(lastSeqno: Seqno(61), primaryTime: startOfTime, digest: noDigest)),
        .ack(Ack(received: Seqno(61), flushed: Seqno(60), applied: Seqno(50))),
        .ack(Ack(received: Seqno(61), flushed: Seqno(61), applied: Seqno(61), notice: 7)),
        .heartbeat(
            Heartbeat(
                lastSeqno: Seqno(62), primaryTime: startOfTime, digest: noDigest,
                standing: SynchronousStanding(notice: 3, required: .init(level: .applied, since: startOfTime, fallbackAfter: nil)))),
        .heartbeat(
            Heartbeat(
                lastSeqno: Seqno(62), primaryTime: startOfTime, digest: noDigest,
                standing: SynchronousStanding(notice: 4, required: .init(level: .flushed, since: startOfTime, fallbackAfter: .seconds(30))))),
    ]
}

func forkedHistory() -> EpochHistory {
    var history = firstEpochHistory
    try! history.append(EpochEntry(epoch: Epoch(2), startSeqno: Seqno(11), parentEpoch: .first, time: startOfTime, sourceID: standbySource))
    return history
}

/// Wraps a body in a well-formed envelope (right length and CRC), to smuggle a bad body past it.
private func envelope(type: UInt8, body: [UInt8]) -> [UInt8] {
    var writer = ByteWriter()
    writer.append(UInt32(9 + body.count))
    writer.append(type)
    writer.append(contentsOf: body)
    writer.append(Checksum.crc32(writer.bytes))
    return writer.bytes
}

private func decodeAll(_ chunks: [[UInt8]], maxMessageBytes: Int = ReplicationProtocol.maxMessageBytes) throws -> [ReplicationMessage] {
    var decoder = MessageDecoder(maxMessageBytes: maxMessageBytes)
    var messages: [ReplicationMessage] = []
    for chunk in chunks {
        decoder.feed(chunk)
        while let message = try decoder.next() { messages.append(message) }
    }
    #expect(decoder.bufferedByteCount == 0, "leftover bytes")
    return messages
}

private func expectViolation(_ bytes: [UInt8], maxMessageBytes: Int = ReplicationProtocol.maxMessageBytes, matching check: (ProtocolViolation) -> Bool) {
    var decoder = MessageDecoder(maxMessageBytes: maxMessageBytes)
    decoder.feed(bytes)
    do {
        _ = try decoder.next()
        Issue.record("no violation")
    } catch {
        #expect(check(error), "\(error)")
    }
    // Stays failed, even when a good message follows.
    decoder.feed(MessageCodec.encode(.ack(Ack(received: .zero, flushed: .zero, applied: .zero))))
    #expect(throws: ProtocolViolation.self) { try decoder.next() }
}

@Suite struct MessageCodecTests {
    @Test func everyMessageRoundTripsAllAtOnce() throws {
        for message in sampleMessages() {
            #expect(try decodeAll([MessageCodec.encode(message)]) == [message])
        }
    }

    @Test func everyMessageRoundTripsByteByByte() throws {
        for message in sampleMessages() {
            #expect(try decodeAll(MessageCodec.encode(message).map { [$0] }) == [message])
        }
    }

    @Test func concatenatedMessagesRoundTripCompressedOrNot() throws {
        for compress in [false, true] {
            let stream = sampleMessages().flatMap { MessageCodec.encode($0, compressRecords: compress) }
            #expect(try decodeAll([stream]) == sampleMessages())
        }
    }

    @Test func compressionShrinksRepetitiveBatches() throws {
        guard case .records(let batch)? = sampleMessages().first(where: { $0.type == .records }) else {
            Issue.record("no records message among the samples")
            return
        }
        let plain = MessageCodec.encode(.records(batch))
        let compressed = MessageCodec.encode(.records(batch), compressRecords: true)
        #expect(compressed.count * 4 < plain.count)
        #expect(try decodeAll([compressed]) == [.records(batch)])
    }

    @Test func oversizedLengthFailsBeforeTheBodyArrives() {
        var bytes = MessageCodec.encode(.heartbeat(Heartbeat(lastSeqno: Seqno(1), primaryTime: startOfTime, digest: noDigest)))
        expectViolation(Array(bytes.prefix(4)), maxMessageBytes: 16) { $0 == .lengthOutOfRange(length: UInt32(bytes.count), maximum: 16) }
        bytes.replaceSubrange(0..<4, with: [0xff, 0xff, 0xff, 0xff])
        expectViolation(bytes) { if case .lengthOutOfRange = $0 { true } else { false } }
        expectViolation([3, 0, 0, 0]) { if case .lengthOutOfRange = $0 { true } else { false } }
    }

    @Test func badCRCFailsAndStaysFailed() {
        var bytes = MessageCodec.encode(.ack(Ack(received: Seqno(3), flushed: Seqno(2), applied: Seqno(1))))
        bytes[7] ^= 0x01
        expectViolation(bytes) { if case .checksumMismatch = $0 { true } else { false } }
    }

    @Test func malformedBodiesFail() {
        expectViolation(envelope(type: 99, body: [])) { $0 == .unknownType(99) }
        expectViolation(envelope(type: MessageType.ack.rawValue, body: Array(repeating: 0, count: 25))) {
            if case .malformed(.ack, _) = $0 { true } else { false }
        }
        expectViolation(envelope(type: MessageType.challenge.rawValue, body: [1, 2, 3])) {
            if case .malformed(.challenge, _) = $0 { true } else { false }
        }
        expectViolation(envelope(type: MessageType.hello.rawValue, body: Array("NOTREP".utf8) + [1, 0])) {
            if case .malformed(.hello, _) = $0 { true } else { false }
        }
        expectViolation(envelope(type: MessageType.reject.rawValue, body: [42])) {
            if case .malformed(.reject, _) = $0 { true } else { false }
        }
    }

    @Test func compressedBatchLargerThanDeclaredFails() {
        var body = ByteWriter()
        body.append(UInt8(1))
        body.append(UInt64(1))
        body.append(UInt64(128))
        body.append(UInt32(10))
        body.append(contentsOf: Gzip.compress(Array(repeating: 0, count: 1000)))
        expectViolation(envelope(type: MessageType.records.rawValue, body: body.bytes)) {
            if case .malformed(.records, _) = $0 { true } else { false }
        }
    }

    @Test func proofBindsChallengeKeyAndFields() {
        let challenge = HelloProof.makeChallenge()
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: Seqno(3)),
            recordCRC: 1, mirrorEnd: nil, history: firstEpochHistory)
        let signed = HelloProof.sign(hello, challenge: challenge, key: sharedKey)
        #expect(HelloProof.verify(signed, challenge: challenge, key: sharedKey))
        #expect(!HelloProof.verify(signed, challenge: HelloProof.makeChallenge(), key: sharedKey))
        #expect(!HelloProof.verify(signed, challenge: challenge, key: ReplicationKey(bytes: Array("another-key-of-enough-bytes".utf8))))
        var tampered = signed
        tampered.position.seqno = Seqno(4)
        #expect(!HelloProof.verify(tampered, challenge: challenge, key: sharedKey))
    }
}
