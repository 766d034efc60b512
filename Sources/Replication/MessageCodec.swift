import Tranlog

/// The replication wire format. All integers are little-endian; CRCs are CRC-32 (zlib).
///
/// Every message is framed the same way:
///
///     offset  size  field
///     0       4     length   (whole message: these 4 bytes, type, body and CRC; 9 ... maxMessageBytes)
///     4       1     type     (MessageType)
///     5       n     body     (by type, below)
///     end-4   4     crc      (CRC-32 of every byte before it)
///
/// A length outside 9 ... `ReplicationProtocol.maxMessageBytes` (one maximal record frame plus 64 KiB),
/// a CRC mismatch, an unknown type or a body that does not parse exactly closes the connection.
///
/// Bodies (`history` = u16 count ≥ 1, then per epoch: u64 epoch, u64 startSeqno, u64 parentEpoch,
/// i64 time µs, u8 length + UTF-8 source id; `repositoryID` = 16 UUID bytes; `string` = u8 length +
/// UTF-8):
///
///     1 challenge   32 random bytes                                          primary → standby, first
///     2 hello       "USREPL", u16 protocolVersion (3), then:                 standby → primary
///                   repositoryID, string sourceID, u64 epoch, u64 seqno, u32 recordCRC
///                   (the mirror's last record), u8 hasMirrorEnd, [u64 fileID, u64 offset],
///                   history, 32-byte challenge (the standby's, for the welcome's proof;
///                   version 3), 32-byte proof = HMAC-SHA256(key, challenge || the hello body
///                   before the proof)
///     3 welcome     repositoryID, u64 epoch, u64 seqno (primary's last durable record), history,
///                   standing (as in heartbeat; version 3), 32-byte proof = HMAC-SHA256(key,
///                   "USREPL welcome" || the hello's challenge || the welcome body before the proof)
///     4 reject      u8 reason, then: 1 wrongKey –; 2 otherRepository primary id, standby id;
///                   3 protocolVersion u16 primary, u16 standby; 4 forkInTime u64 forkSeqno,
///                   primary history, standby history; 5 divergentRecord u64 seqno, u32 primaryCRC,
///                   u32 standbyCRC; 6 mirrorMismatch u64 fileID, u64 offset (primary), u64 fileID,
///                   u64 offset (standby); 7 logsRemoved u64 needed, u64 oldestAvailable (0: none);
///                   8 standbyAhead u64 standby, u64 primary; 11 notPrimary –;
///                   12 fenced u16 length + UTF-8 detail
///     5 fileStart   the 128 header bytes of a tranlog file, verbatim
///     6 records     u8 flags (bit 0: gzip-compressed), u64 fileID, u64 offset (event id of the
///                   first frame), u32 framesLength (uncompressed), then the frames (or their gzip
///                   stream): whole record frames, byte-identical to the primary's file
///     7 heartbeat   u64 lastSeqno (primary's last durable record), i64 primary clock µs, u64 digest
///                   seqno (the primary's visible position), u64 digest high, u64 digest low (its
///                   content digest there; protocol version 2), then the standby's synchronous
///                   standing (version 3): u32 notice, u8 level (0: not required; 1 received,
///                   2 flushed, 3 applied), i64 required since µs, u32 fallback after ms (0: never)
///     8 ack         u64 received, u64 flushed, u64 applied, u32 notice (the newest standing
///                   notice heard; version 3)
///     9 … 12        the base copy (`BaseCopyCodec`); reject reasons 9 backupInProgress and
///                   10 baseCopyFailed carry a u16 length + UTF-8 detail
///
/// Conversation: on connect the primary sends `challenge`; the standby answers `hello`; the primary
/// answers `reject` (and closes) or `welcome`, then streams `fileStart` whenever it enters a file
/// (the standby creates that file from the header) followed by `records` of that file, and a
/// `heartbeat` every interval. The standby sends `ack` after each sync of its mirror.
public enum MessageCodec {
    static let envelopeBytes = 9
    public static let minimumMessageBytes = envelopeBytes

    /// Encodes a message, compressing a records batch when asked and when that makes it smaller.
    public static func encode(_ message: ReplicationMessage, compressRecords: Bool = false) -> [UInt8] {
        var body = ByteWriter()
        encodeBody(message, compressRecords: compressRecords, into: &body)
        var writer = ByteWriter()
        writer.append(UInt32(envelopeBytes + body.bytes.count))
        writer.append(message.type.rawValue)
        writer.append(contentsOf: body.bytes)
        writer.append(Checksum.crc32(writer.bytes))
        return writer.bytes
    }

    /// The hello fields the proof signs: the body up to, not including, the proof.
    static func helloFields(_ hello: Hello) -> [UInt8] {
        var writer = ByteWriter()
        writeHelloFields(hello, into: &writer)
        return writer.bytes
    }

    /// The welcome fields its proof signs: the body up to, not including, the proof.
    static func welcomeFields(_ welcome: Welcome) -> [UInt8] {
        var writer = ByteWriter()
        writeWelcomeFields(welcome, into: &writer)
        return writer.bytes
    }

    private static func writeWelcomeFields(_ welcome: Welcome, into writer: inout ByteWriter) {
        writer.append(contentsOf: welcome.repositoryID.bytes)
        writePosition(welcome.position, into: &writer)
        writeHistory(welcome.history, into: &writer)
        writeStanding(welcome.standing, into: &writer)
    }

    // MARK: - Encoding bodies

    private static func encodeBody(_ message: ReplicationMessage, compressRecords: Bool, into writer: inout ByteWriter) {
        switch message {
        case .challenge(let bytes):
            precondition(bytes.count == ReplicationProtocol.challengeBytes, "a challenge is \(ReplicationProtocol.challengeBytes) bytes")
            writer.append(contentsOf: bytes)
        case .hello(let hello):
            precondition(hello.proof.count == HelloProof.bytes, "sign a hello before sending it")
            writeHelloFields(hello, into: &writer)
            writer.append(contentsOf: hello.proof)
        case .foreignHello(let version):
            writer.append(contentsOf: ReplicationProtocol.magic)
            writer.append(version)
        case .welcome(let welcome):
            precondition(welcome.proof.count == HelloProof.bytes, "sign a welcome before sending it")
            writeWelcomeFields(welcome, into: &writer)
            writer.append(contentsOf: welcome.proof)
        case .reject(let reason):
            writeReject(reason, into: &writer)
        case .fileStart(let header):
            precondition(header.count == FileHeader.size, "a fileStart carries a whole \(FileHeader.size)-byte header")
            writer.append(contentsOf: header)
        case .records(let batch):
            writeRecords(batch, compress: compressRecords, into: &writer)
        case .heartbeat(let heartbeat):
            writer.append(heartbeat.lastSeqno.rawValue)
            writer.append(heartbeat.primaryTime.rawValue)
            writer.append(heartbeat.digest.seqno.rawValue)
            writer.append(heartbeat.digest.value.high)
            writer.append(heartbeat.digest.value.low)
            writeStanding(heartbeat.standing, into: &writer)
        case .ack(let ack):
            writer.append(ack.received.rawValue)
            writer.append(ack.flushed.rawValue)
            writer.append(ack.applied.rawValue)
            writer.append(ack.notice)
        case .baseCopyRequest, .foreignBaseCopyRequest, .baseCopyStart, .baseCopyData, .baseCopyEnd:
            writeBaseCopyBody(message, into: &writer)
        }
    }

    private static func writeStanding(_ standing: SynchronousStanding, into writer: inout ByteWriter) {
        writer.append(standing.notice)
        writer.append(standing.required.map(\.level.wireCode) ?? 0)
        writer.append(standing.required?.since.rawValue ?? 0)
        // A fallback delay rounds up to whole milliseconds and at least 1: 0 means "never".
        let fallback = standing.required?.fallbackAfter.map { UInt32(clamping: max(1, Int(($0 / .milliseconds(1)).rounded(.up)))) }
        writer.append(fallback ?? 0)
    }

    private static func writeHelloFields(_ hello: Hello, into writer: inout ByteWriter) {
        writer.append(contentsOf: ReplicationProtocol.magic)
        writer.append(ReplicationProtocol.version)
        writer.append(contentsOf: hello.repositoryID.bytes)
        writer.appendShortString(hello.sourceID.name)
        writePosition(hello.position, into: &writer)
        writer.append(hello.recordCRC)
        writer.append(UInt8(hello.mirrorEnd == nil ? 0 : 1))
        if let end = hello.mirrorEnd { writeEventID(end, into: &writer) }
        writeHistory(hello.history, into: &writer)
        precondition(hello.challenge.count == ReplicationProtocol.challengeBytes, "a hello's challenge is \(ReplicationProtocol.challengeBytes) bytes")
        writer.append(contentsOf: hello.challenge)
    }

    private static func writeReject(_ reason: RejectReason, into writer: inout ByteWriter) {
        switch reason {
        case .wrongKey:
            writer.append(UInt8(1))
        case .otherRepository(let primary, let standby):
            writer.append(UInt8(2))
            writer.append(contentsOf: primary.bytes)
            writer.append(contentsOf: standby.bytes)
        case .protocolVersion(let primary, let standby):
            writer.append(UInt8(3))
            writer.append(primary)
            writer.append(standby)
        case .forkInTime(let primary, let standby, let forkSeqno):
            writer.append(UInt8(4))
            writer.append(forkSeqno.rawValue)
            writeHistory(primary, into: &writer)
            writeHistory(standby, into: &writer)
        case .divergentRecord(let seqno, let primaryCRC, let standbyCRC):
            writer.append(UInt8(5))
            writer.append(seqno.rawValue)
            writer.append(primaryCRC)
            writer.append(standbyCRC)
        case .mirrorMismatch(let primary, let standby):
            writer.append(UInt8(6))
            writeEventID(primary, into: &writer)
            writeEventID(standby, into: &writer)
        case .logsRemoved(let needed, let oldest):
            writer.append(UInt8(7))
            writer.append(needed.rawValue)
            writer.append(oldest?.rawValue ?? 0)
        case .standbyAhead(let standby, let primary):
            writer.append(UInt8(8))
            writer.append(standby.rawValue)
            writer.append(primary.rawValue)
        case .backupInProgress(let detail):
            writer.append(UInt8(9))
            writer.appendLongString(detail)
        case .baseCopyFailed(let detail):
            writer.append(UInt8(10))
            writer.appendLongString(detail)
        case .notPrimary:
            writer.append(UInt8(11))
        case .fenced(let detail):
            writer.append(UInt8(12))
            writer.appendLongString(detail)
        }
    }

    /// What a records message takes on the wire besides its (maybe compressed) frames: the envelope
    /// and the batch's fixed fields. A shipper subtracts it to measure compression on the frames alone.
    static let recordsOverheadBytes = encode(.records(RecordBatch(firstEventID: EventID(fileID: .first, offset: 0), frames: [])), compressRecords: false).count

    private static func writeRecords(_ batch: RecordBatch, compress: Bool, into writer: inout ByteWriter) {
        // Level 1: several times smaller for key/value records at a fraction of level 6's cost.
        let compressed = compress ? Gzip.compress(batch.frames, level: 1) : nil
        let useCompressed = compressed.map { $0.count < batch.frames.count } ?? false
        writer.append(UInt8(useCompressed ? 1 : 0))
        writeEventID(batch.firstEventID, into: &writer)
        writer.append(UInt32(batch.frames.count))
        writer.append(contentsOf: useCompressed ? compressed! : batch.frames)
    }

    static func writePosition(_ position: LogPosition, into writer: inout ByteWriter) {
        writer.append(position.epoch.rawValue)
        writer.append(position.seqno.rawValue)
    }

    static func writeEventID(_ eventID: EventID, into writer: inout ByteWriter) {
        writer.append(eventID.fileID.rawValue)
        writer.append(eventID.offset)
    }

    static func writeHistory(_ history: EpochHistory, into writer: inout ByteWriter) {
        writer.append(UInt16(history.entries.count))
        for entry in history.entries {
            writer.append(entry.epoch.rawValue)
            writer.append(entry.startSeqno.rawValue)
            writer.append(entry.parentEpoch.rawValue)
            writer.append(entry.time.rawValue)
            writer.appendShortString(entry.sourceID.name)
        }
    }
}
