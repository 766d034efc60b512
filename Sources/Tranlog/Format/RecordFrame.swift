/// The on-disk (and on-wire) frame of one record:
///
///     offset  size  field
///     0       4     frameLength  (whole frame, these 4 bytes and the CRC included)
///     4       1     kind
///     5       1     flags        (0 in format version 1)
///     6       2     sourceLength (1...255)
///     8       8     seqno
///     16      8     epoch
///     24      8     time         (µs since the Unix epoch, signed)
///     32      4     previousCRC  (CRC of the preceding record)
///     36      n     source id    (UTF-8)
///     36+n    m     payload      (by kind, see RecordBodyCodec)
///     end-4   4     crc32        (zlib CRC-32 of every byte before it)
public enum RecordFrame {
    public static let fixedHeaderBytes = 36
    public static let trailerBytes = 4
    public static let minimumBytes = fixedHeaderBytes + 1 + trailerBytes

    /// Encodes a record. The caller has checked `body.limitViolation`; a violation here is a bug.
    public static func encode(_ header: RecordHeader, _ body: RecordBody) -> (bytes: [UInt8], crc: UInt32) {
        var prepared = prepare(body, sourceID: header.sourceID)
        let crc = prepared.place(header)
        return (prepared.bytes, crc)
    }

    /// Encodes a record's source id and payload, and their CRC, before its place in the log is
    /// known: the costly part of an encoding, done outside the writer's lock. The caller has checked
    /// `body.limitViolation`; a violation here is a bug.
    public static func prepare(_ body: RecordBody, sourceID: SourceID) -> PreparedFrame {
        precondition(body.limitViolation == nil, "record body over the limits: \(body.limitViolation ?? "")")
        let source = Array(sourceID.name.utf8)
        let length = fixedHeaderBytes + source.count + RecordBodyCodec.encodedSize(body) + trailerBytes
        var writer = ByteWriter(capacity: length)
        writer.appendZeros(fixedHeaderBytes)
        writer.append(contentsOf: source)
        RecordBodyCodec.encode(body, into: &writer)
        let tailCRC = Checksum.crc32(writer.bytes[fixedHeaderBytes...])
        writer.appendZeros(trailerBytes)
        precondition(writer.bytes.count == length, "encoded frame length \(writer.bytes.count) != computed \(length)")
        return PreparedFrame(kind: body.kind, sourceID: sourceID, bytes: writer.bytes, tailCRC: tailCRC)
    }

    /// Length of a frame for `body` written by `sourceID`, without encoding it.
    public static func encodedLength(_ body: RecordBody, sourceID: SourceID) -> Int {
        fixedHeaderBytes + sourceID.name.utf8.count + RecordBodyCodec.encodedSize(body) + trailerBytes
    }

    /// Decodes the frame at the start of `bytes`: its header (`readHeader`), then its source id and body.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> FrameDecoding {
        switch readHeader(bytes) {
        case .needMoreBytes: return .needMoreBytes
        case .invalid(let defect): return .invalid(defect)
        case .header(let header): return decodeBody(bytes[bytes.startIndex..<bytes.startIndex + header.length], header: header)
        }
    }

    /// Reads and checks the frame at the start of `bytes` up to its body: length, CRC, kind, flags,
    /// the source id's length (not its text) and an epochBegin's payload. A defect after the CRC
    /// matched means a writer bug or a forged frame.
    public static func readHeader(_ bytes: ArraySlice<UInt8>) -> FrameHeaderReading {
        guard bytes.count >= 4 else { return .needMoreBytes }
        let start = bytes.startIndex
        let length = readLittleEndian(UInt32.self, in: bytes, at: start)
        guard length >= minimumBytes, length <= TranlogLimits.maxFrameBytes else {
            return .invalid(.impossibleLength(length))
        }
        guard bytes.count >= Int(length) else { return .needMoreBytes }
        let frame = bytes[start..<start + Int(length)]
        let stored = readLittleEndian(UInt32.self, in: frame, at: frame.endIndex - trailerBytes)
        let computed = Checksum.crc32(frame.dropLast(trailerBytes))
        guard stored == computed else { return .invalid(.checksumMismatch(stored: stored, computed: computed)) }
        var reader = ByteReader(frame)
        _ = reader.read(UInt32.self)
        let kindByte: UInt8 = reader.read()!
        let flags: UInt8 = reader.read()!
        let sourceLength: UInt16 = reader.read()!
        guard let kind = RecordKind(rawValue: kindByte) else { return .invalid(.unknownKind(kindByte)) }
        guard flags == 0 else { return .invalid(.unknownFlags(flags)) }
        guard sourceLength >= 1, fixedHeaderBytes + Int(sourceLength) <= frame.count - trailerBytes else {
            return .invalid(.badSourceID(length: sourceLength))
        }
        var header = FrameHeader(
            length: Int(length), kind: kind, seqno: Seqno(reader.read()!), epoch: Epoch(reader.read()!),
            time: Timestamp(rawValue: reader.read()!), previousCRC: reader.read()!, crc: stored, sourceLength: Int(sourceLength),
            epochBegin: nil)
        if kind == .epochBegin {
            switch RecordBodyCodec.decode(kind: kind, payload: payload(of: frame, header: header)) {
            case .failure(let problem): return .invalid(.malformedPayload(kind: kind, reason: problem.reason))
            case .success(let body):
                guard case .epochBegin(let info) = body else { preconditionFailure("an epochBegin payload decodes to epochBegin") }
                header.epochBegin = info
            }
        }
        return .header(header)
    }

    static func payload(of frame: ArraySlice<UInt8>, header: FrameHeader) -> ArraySlice<UInt8> {
        frame[(frame.startIndex + fixedHeaderBytes + header.sourceLength)..<(frame.endIndex - trailerBytes)]
    }

    /// Decodes the source id and body of a frame whose header `readHeader` accepted.
    private static func decodeBody(_ frame: ArraySlice<UInt8>, header: FrameHeader) -> FrameDecoding {
        guard let sourceID = SourceID(validating: sourceBytes(of: frame, header: header)) else {
            return .invalid(.badSourceID(length: UInt16(header.sourceLength)))
        }
        return decodeBody(frame, header: header, sourceID: sourceID)
    }

    /// The source id's bytes in a frame whose header `readHeader` accepted.
    static func sourceBytes(of frame: ArraySlice<UInt8>, header: FrameHeader) -> ArraySlice<UInt8> {
        let start = frame.startIndex + fixedHeaderBytes
        return frame[start..<start + header.sourceLength]
    }

    /// Decodes the body of a frame whose header was accepted and whose source id is `sourceID`.
    static func decodeBody(_ frame: ArraySlice<UInt8>, header: FrameHeader, sourceID: SourceID) -> FrameDecoding {
        let body: RecordBody
        if let info = header.epochBegin {
            body = .epochBegin(info)
        } else {
            switch RecordBodyCodec.decode(kind: header.kind, payload: payload(of: frame, header: header)) {
            case .failure(let problem): return .invalid(.malformedPayload(kind: header.kind, reason: problem.reason))
            case .success(let decoded): body = decoded
            }
        }
        let recordHeader = RecordHeader(
            kind: header.kind, seqno: header.seqno, epoch: header.epoch, time: header.time, sourceID: sourceID,
            previousCRC: header.previousCRC)
        return .record(DecodedRecord(header: recordHeader, body: body, crc: header.crc, frame: frame))
    }
}

/// Decodes the bodies of frames whose headers were read and checked already (`RecordFrame.readHeader`,
/// on a standby by its mirror writer), without a second CRC pass. Consecutive frames nearly always
/// carry the same source id: it is validated once and reused while its bytes repeat.
public struct FrameBodyDecoder {
    private var lastSource: (bytes: [UInt8], sourceID: SourceID)?

    public init() {}

    /// `frame` is exactly the frame `header` was read from.
    public mutating func decode(_ frame: ArraySlice<UInt8>, header: FrameHeader) -> FrameDecoding {
        guard let sourceID = sourceID(of: frame, header: header) else { return .invalid(.badSourceID(length: UInt16(header.sourceLength))) }
        return RecordFrame.decodeBody(frame, header: header, sourceID: sourceID)
    }

    /// Reads a commit frame's writes without building its record: each operation's key and value
    /// (nil: a delete), in order, with the checks `decode` makes; returns the frame's source id. On
    /// a defect, operations read before it were handed over already: the caller drops them.
    public mutating func decodeCommit(
        _ frame: ArraySlice<UInt8>, header: FrameHeader, _ body: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>?) -> Void
    ) -> Result<SourceID, FrameDefect> {
        precondition(header.kind == .commit, "a \(header.kind) frame read as a commit")
        guard let sourceID = sourceID(of: frame, header: header) else { return .failure(.badSourceID(length: UInt16(header.sourceLength))) }
        var reader = ByteReader(RecordFrame.payload(of: frame, header: header))
        do { try RecordBodyCodec.readCommit(&reader, body) } catch { return .failure(.malformedPayload(kind: .commit, reason: error.reason)) }
        return .success(sourceID)
    }

    /// The frame's source id, validated unless its bytes repeat the last frame's.
    private mutating func sourceID(of frame: ArraySlice<UInt8>, header: FrameHeader) -> SourceID? {
        precondition(frame.count == header.length, "a frame of \(frame.count) bytes decoded with a header saying \(header.length)")
        let bytes = RecordFrame.sourceBytes(of: frame, header: header)
        if let lastSource, Self.same(lastSource.bytes, bytes) { return lastSource.sourceID }
        guard let sourceID = SourceID(validating: bytes) else { return nil }
        lastSource = (Array(bytes), sourceID)
        return sourceID
    }

    /// Compared through buffer pointers: `elementsEqual` between an array and a slice went through
    /// their iterators, a twentieth of a standby's decoding for a 13-byte source id.
    private static func same(_ bytes: [UInt8], _ other: ArraySlice<UInt8>) -> Bool {
        bytes.count == other.count
            && bytes.withUnsafeBufferPointer { bytes in other.withUnsafeBufferPointer { bytes.elementsEqual($0) } }
    }
}

extension SourceID {
    /// A source id from a frame's bytes: valid UTF-8 and the source id format.
    init?(validating bytes: ArraySlice<UInt8>) {
        guard let name = String(validating: bytes, as: UTF8.self) else { return nil }
        self.init(name)
    }
}

/// A frame encoded but for its fixed header (36 bytes: length, kind, flags, source length and the
/// position fields seqno, epoch, time, previousCRC) and its CRC, which `place` fills in once the
/// writer has given the record its seqno.
public struct PreparedFrame: Sendable {
    public let kind: RecordKind
    public let sourceID: SourceID
    public private(set) var bytes: [UInt8]
    /// The CRC of the source id and payload (bytes 36 up to the trailer).
    let tailCRC: UInt32

    /// The whole frame's length.
    public var length: Int { bytes.count }

    /// Writes the fixed header and the CRC (combined from the header's and `tailCRC`); returns the CRC.
    mutating func place(_ header: RecordHeader) -> UInt32 {
        precondition(header.kind == kind, "record header kind \(header.kind) does not match body \(kind)")
        precondition(header.sourceID == sourceID, "record prepared for source \(sourceID) placed as \(header.sourceID)")
        var fixed = ByteWriter(capacity: RecordFrame.fixedHeaderBytes)
        fixed.append(UInt32(bytes.count))
        fixed.append(header.kind.rawValue)
        fixed.append(UInt8(0))
        fixed.append(UInt16(header.sourceID.name.utf8.count))
        fixed.append(header.seqno.rawValue)
        fixed.append(header.epoch.rawValue)
        fixed.append(header.time.rawValue)
        fixed.append(header.previousCRC)
        bytes.replaceSubrange(0..<RecordFrame.fixedHeaderBytes, with: fixed.bytes)
        let tailLength = bytes.count - RecordFrame.fixedHeaderBytes - RecordFrame.trailerBytes
        let crc = Checksum.combine(Checksum.crc32(fixed.bytes), tailCRC, secondLength: tailLength)
        var trailer = ByteWriter(capacity: RecordFrame.trailerBytes)
        trailer.append(crc)
        bytes.replaceSubrange((bytes.count - RecordFrame.trailerBytes)..., with: trailer.bytes)
        return crc
    }
}

/// The outcome of decoding one frame. Running out of bytes is an expected outcome, not an error.
public enum FrameDecoding: Sendable {
    case record(DecodedRecord)
    /// The bytes end before the frame does.
    case needMoreBytes
    case invalid(FrameDefect)
}

/// What is wrong with a frame, worded for an operator.
public enum FrameDefect: Hashable, Sendable, CustomStringConvertible {
    case impossibleLength(UInt32)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case unknownKind(UInt8)
    case unknownFlags(UInt8)
    case badSourceID(length: UInt16)
    case malformedPayload(kind: RecordKind, reason: String)

    public var description: String {
        switch self {
        case .impossibleLength(let length):
            "frame length \(length) is outside \(RecordFrame.minimumBytes)...\(TranlogLimits.maxFrameBytes)"
        case .checksumMismatch(let stored, let computed):
            "CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .unknownKind(let kind): "unknown record kind \(kind)"
        case .unknownFlags(let flags): "unknown flags \(flags) (format version 1 has none)"
        case .badSourceID(let length): "source id of \(length) bytes is empty, too long or not valid UTF-8"
        case .malformedPayload(let kind, let reason): "malformed \(kind) payload: \(reason)"
        }
    }
}

package func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
