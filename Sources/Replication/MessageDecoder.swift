import Repository
import Tranlog

/// Decodes a stream of messages that arrives in arbitrary pieces. Feed bytes, then take messages
/// until `next()` returns nil. A violation is thrown and leaves the decoder failed: after a bad
/// message nothing that follows can be trusted, so the connection is closed.
public struct MessageDecoder: Sendable {
    private(set) var maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failed: ProtocolViolation?

    public init(maxMessageBytes: Int = ReplicationProtocol.maxMessageBytes) {
        precondition(maxMessageBytes >= MessageCodec.minimumMessageBytes, "maxMessageBytes is below the envelope size")
        self.maxMessageBytes = maxMessageBytes
    }

    /// Raises the limit once the peer proved itself (the welcome verified): from the next message on.
    public mutating func allowMessages(upTo maxMessageBytes: Int) {
        self.maxMessageBytes = max(self.maxMessageBytes, maxMessageBytes)
    }

    /// Bytes fed but not yet returned as messages.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(ProtocolViolation) -> ReplicationMessage? {
        if let failed { throw failed }
        do throws(ProtocolViolation) {
            guard let message = try decodeNext() else {
                compact()
                return nil
            }
            return message
        } catch {
            failed = error
            throw error
        }
    }

    private mutating func decodeNext() throws(ProtocolViolation) -> ReplicationMessage? {
        guard bufferedByteCount >= 4 else { return nil }
        let length = readUInt32(buffer[readIndex...])
        // Checked before waiting for the body, so a hostile length never makes us buffer it.
        guard length >= MessageCodec.minimumMessageBytes, Int(length) <= maxMessageBytes else {
            throw .lengthOutOfRange(length: length, maximum: maxMessageBytes)
        }
        guard bufferedByteCount >= Int(length) else { return nil }
        let message = buffer[readIndex..<readIndex + Int(length)]
        readIndex += Int(length)
        return try MessageCodec.decode(message, maxMessageBytes: maxMessageBytes)
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeSubrange(0..<readIndex)
        readIndex = 0
    }
}

extension MessageCodec {
    /// Decodes one whole message (its length already checked by the caller).
    static func decode(_ message: ArraySlice<UInt8>, maxMessageBytes: Int) throws(ProtocolViolation) -> ReplicationMessage {
        let stored = readUInt32(message.suffix(4))
        let computed = Checksum.crc32(message.dropLast(4))
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        let typeByte = message[message.startIndex + 4]
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        var reader = WireReader(message.dropFirst(5).dropLast(4), type: type)
        let decoded = try decodeBody(type, from: &reader, maxMessageBytes: maxMessageBytes)
        try reader.finish()
        return decoded
    }

    private static func decodeBody(
        _ type: MessageType, from reader: inout WireReader, maxMessageBytes: Int
    ) throws(ProtocolViolation) -> ReplicationMessage {
        switch type {
        case .challenge:
            return .challenge(Array(try reader.readBytes(ReplicationProtocol.challengeBytes)))
        case .hello:
            return try readHello(from: &reader)
        case .welcome:
            return .welcome(
                Welcome(
                    repositoryID: try readRepositoryID(from: &reader), position: try readPosition(from: &reader),
                    history: try readHistory(from: &reader), standing: try readStanding(from: &reader),
                    proof: Array(try reader.readBytes(HelloProof.bytes))))
        case .reject:
            return .reject(try readReject(from: &reader))
        case .fileStart:
            return .fileStart(header: Array(try reader.readBytes(FileHeader.size)))
        case .records:
            return .records(try readRecords(from: &reader, maxMessageBytes: maxMessageBytes))
        case .heartbeat:
            return .heartbeat(
                Heartbeat(
                    lastSeqno: Seqno(try reader.read()), primaryTime: Timestamp(rawValue: try reader.read()),
                    digest: PositionedDigest(seqno: Seqno(try reader.read()), value: ContentDigest(high: try reader.read(), low: try reader.read())),
                    standing: try readStanding(from: &reader)))
        case .ack:
            return .ack(
                Ack(
                    received: Seqno(try reader.read()), flushed: Seqno(try reader.read()), applied: Seqno(try reader.read()),
                    notice: try reader.read()))
        case .baseCopyRequest, .baseCopyStart, .baseCopyData, .baseCopyEnd:
            return try readBaseCopyBody(type, from: &reader, maxMessageBytes: maxMessageBytes)
        }
    }

    private static func readStanding(from reader: inout WireReader) throws(ProtocolViolation) -> SynchronousStanding {
        let notice: UInt32 = try reader.read()
        let code: UInt8 = try reader.read()
        let since = Timestamp(rawValue: try reader.read())
        let fallbackMilliseconds: UInt32 = try reader.read()
        guard code != 0 else { return SynchronousStanding(notice: notice, required: nil) }
        guard let level = SynchronousLevel(wireCode: code) else {
            throw reader.malformed("synchronous level \(code) is not 0 (not required), 1 (received), 2 (flushed) or 3 (applied)")
        }
        let fallbackAfter = fallbackMilliseconds == 0 ? nil : Duration.milliseconds(Int64(fallbackMilliseconds))
        return SynchronousStanding(notice: notice, required: .init(level: level, since: since, fallbackAfter: fallbackAfter))
    }

    private static func readHello(from reader: inout WireReader) throws(ProtocolViolation) -> ReplicationMessage {
        guard try reader.readBytes(ReplicationProtocol.magic.count).elementsEqual(ReplicationProtocol.magic) else {
            throw reader.malformed("it does not start with the replication magic (not an Understudy standby?)")
        }
        let version: UInt16 = try reader.read()
        // Another version's fields may be laid out differently: read nothing more, so the primary
        // can still answer with a reject naming both versions.
        guard version == ReplicationProtocol.version else {
            _ = reader.readRest()
            return .foreignHello(protocolVersion: version)
        }
        let repositoryID = try readRepositoryID(from: &reader)
        let sourceID = try readSourceID(from: &reader)
        let position = try readPosition(from: &reader)
        let recordCRC: UInt32 = try reader.read()
        let hasMirrorEnd: UInt8 = try reader.read()
        guard hasMirrorEnd <= 1 else { throw reader.malformed("mirror-end flag \(hasMirrorEnd) is neither 0 nor 1") }
        let mirrorEnd = hasMirrorEnd == 1 ? try readEventID(from: &reader) : nil
        let history = try readHistory(from: &reader)
        let challenge = Array(try reader.readBytes(ReplicationProtocol.challengeBytes))
        let proof = Array(try reader.readBytes(HelloProof.bytes))
        return .hello(
            Hello(
                repositoryID: repositoryID, sourceID: sourceID, position: position, recordCRC: recordCRC,
                mirrorEnd: mirrorEnd, history: history, challenge: challenge, proof: proof))
    }

    private static func readReject(from reader: inout WireReader) throws(ProtocolViolation) -> RejectReason {
        let code: UInt8 = try reader.read()
        switch code {
        case 1: return .wrongKey
        case 2: return .otherRepository(primary: try readRepositoryID(from: &reader), standby: try readRepositoryID(from: &reader))
        case 3: return .protocolVersion(primary: try reader.read(), standby: try reader.read())
        case 4:
            let forkSeqno = Seqno(try reader.read())
            return .forkInTime(primary: try readHistory(from: &reader), standby: try readHistory(from: &reader), forkSeqno: forkSeqno)
        case 5: return .divergentRecord(seqno: Seqno(try reader.read()), primaryCRC: try reader.read(), standbyCRC: try reader.read())
        case 6: return .mirrorMismatch(primary: try readEventID(from: &reader), standby: try readEventID(from: &reader))
        case 7:
            let needed = Seqno(try reader.read())
            let oldest = Seqno(try reader.read())
            return .logsRemoved(needed: needed, oldestAvailable: oldest == .zero ? nil : oldest)
        case 8: return .standbyAhead(standby: Seqno(try reader.read()), primary: Seqno(try reader.read()))
        case 9: return .backupInProgress(detail: try reader.readLongString())
        case 10: return .baseCopyFailed(detail: try reader.readLongString())
        case 11: return .notPrimary
        case 12: return .fenced(detail: try reader.readLongString())
        default: throw reader.malformed("unknown reject reason \(code)")
        }
    }

    private static func readRecords(from reader: inout WireReader, maxMessageBytes: Int) throws(ProtocolViolation) -> RecordBatch {
        let flags: UInt8 = try reader.read()
        guard flags <= 1 else { throw reader.malformed("unknown flags \(flags)") }
        let firstEventID = try readEventID(from: &reader)
        let framesLength = Int(try reader.read(UInt32.self))
        guard framesLength <= maxMessageBytes else {
            throw reader.malformed("\(framesLength) bytes of frames exceed the \(maxMessageBytes)-byte limit")
        }
        let data = reader.readRest()
        let frames = flags == 1 ? try inflate(data, expecting: framesLength, reader: reader) : Array(data)
        guard frames.count == framesLength else {
            throw reader.malformed("it holds \(frames.count) bytes of frames, its header says \(framesLength)")
        }
        return RecordBatch(firstEventID: firstEventID, frames: frames)
    }

    /// Decompresses at most `expected` + 1 bytes: a batch that inflates past its declared length is
    /// refused without being held in memory whole.
    private static func inflate(_ data: ArraySlice<UInt8>, expecting expected: Int, reader: WireReader) throws(ProtocolViolation) -> [UInt8] {
        let stream = GzipStreamDecompressor(Array(data))
        var output: [UInt8] = []
        while output.count <= expected {
            switch stream.read(maxCount: expected + 1 - output.count) {
            case .failure(let error): throw reader.malformed("its compressed frames cannot be inflated: \(error)")
            case .success(let bytes) where bytes.isEmpty: return output
            case .success(let bytes): output += bytes
            }
        }
        return output
    }

    // MARK: - Fields

    static func readRepositoryID(from reader: inout WireReader) throws(ProtocolViolation) -> RepositoryID {
        RepositoryID(bytes: try reader.readBytes(16))
    }

    static func readSourceID(from reader: inout WireReader) throws(ProtocolViolation) -> SourceID {
        let name = try reader.readShortString()
        guard let sourceID = SourceID(name) else { throw reader.malformed("'\(name)' is not \(SourceID.textFormat)") }
        return sourceID
    }

    static func readPosition(from reader: inout WireReader) throws(ProtocolViolation) -> LogPosition {
        LogPosition(epoch: Epoch(try reader.read()), seqno: Seqno(try reader.read()))
    }

    static func readEventID(from reader: inout WireReader) throws(ProtocolViolation) -> EventID {
        EventID(fileID: FileID(try reader.read()), offset: try reader.read())
    }

    private static func readHistory(from reader: inout WireReader) throws(ProtocolViolation) -> EpochHistory {
        let count: UInt16 = try reader.read()
        var entries: [EpochEntry] = []
        for _ in 0..<count {
            entries.append(
                EpochEntry(
                    epoch: Epoch(try reader.read()), startSeqno: Seqno(try reader.read()), parentEpoch: Epoch(try reader.read()),
                    time: Timestamp(rawValue: try reader.read()), sourceID: try readSourceID(from: &reader)))
        }
        do {
            return try EpochHistory(entries: entries)
        } catch {
            throw reader.malformed("its epoch history is invalid: \(error)")
        }
    }
}
