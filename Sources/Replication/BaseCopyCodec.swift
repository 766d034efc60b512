import Tranlog

/// The base copy's message bodies (framing as in `MessageCodec`; integers little-endian):
///
///     9  baseCopyRequest  "USBASE", u16 baseCopyVersion, and for version 1:      standby → primary
///                         string sourceID, 32-byte nonce, 32-byte proof = HMAC-SHA256(key,
///                         challenge || the body before the proof)
///     10 baseCopyStart    repositoryID, u64 byteCount, u8 flags (bit 0: gzip)     primary → standby
///     11 baseCopyData     u64 offset, then the bytes (1 ... 1 MiB)                primary → standby
///     12 baseCopyEnd      repositoryID, u64 epoch, u64 seqno, u64 byteCount,      primary → standby
///                         u32 crc, 32-byte SHA-256, 32-byte proof = HMAC-SHA256(key,
///                         nonce || the body before the proof)
extension MessageCodec {
    static func writeBaseCopyBody(_ message: ReplicationMessage, into writer: inout ByteWriter) {
        switch message {
        case .baseCopyRequest(let request):
            precondition(request.proof.count == HelloProof.bytes, "sign a base-copy request before sending it")
            writeBaseCopyRequestFields(request, into: &writer)
            writer.append(contentsOf: request.proof)
        case .foreignBaseCopyRequest(let version):
            writer.append(contentsOf: BaseCopyProtocol.magic)
            writer.append(version)
        case .baseCopyStart(let start):
            writer.append(contentsOf: start.repositoryID.bytes)
            writer.append(start.byteCount)
            writer.append(UInt8(start.compressed ? 1 : 0))
        case .baseCopyData(let chunk):
            precondition((1...BaseCopyProtocol.maxChunkBytes).contains(chunk.bytes.count), "a base-copy chunk is 1 byte to 1 MiB")
            writer.append(chunk.offset)
            writer.append(contentsOf: chunk.bytes)
        case .baseCopyEnd(let end):
            precondition(end.proof.count == HelloProof.bytes, "sign a base-copy end before sending it")
            writeBaseCopyEndFields(end, into: &writer)
            writer.append(contentsOf: end.proof)
        default:
            preconditionFailure("\(message.type) is not a base-copy message")
        }
    }

    static func baseCopyRequestFields(_ request: BaseCopyRequest) -> [UInt8] {
        var writer = ByteWriter()
        writeBaseCopyRequestFields(request, into: &writer)
        return writer.bytes
    }

    static func baseCopyEndFields(_ end: BaseCopyEnd) -> [UInt8] {
        var writer = ByteWriter()
        writeBaseCopyEndFields(end, into: &writer)
        return writer.bytes
    }

    private static func writeBaseCopyRequestFields(_ request: BaseCopyRequest, into writer: inout ByteWriter) {
        precondition(request.nonce.count == BaseCopyProtocol.nonceBytes, "a base-copy nonce is \(BaseCopyProtocol.nonceBytes) bytes")
        writer.append(contentsOf: BaseCopyProtocol.magic)
        writer.append(BaseCopyProtocol.version)
        writer.appendShortString(request.sourceID.name)
        writer.append(contentsOf: request.nonce)
    }

    private static func writeBaseCopyEndFields(_ end: BaseCopyEnd, into writer: inout ByteWriter) {
        precondition(end.digest.count == 32, "a base-copy digest is a SHA-256")
        writer.append(contentsOf: end.repositoryID.bytes)
        writePosition(end.position, into: &writer)
        writer.append(end.byteCount)
        writer.append(end.crc)
        writer.append(contentsOf: end.digest)
    }

    static func readBaseCopyBody(
        _ type: MessageType, from reader: inout WireReader, maxMessageBytes: Int
    ) throws(ProtocolViolation) -> ReplicationMessage {
        switch type {
        case .baseCopyRequest:
            return try readBaseCopyRequest(from: &reader)
        case .baseCopyStart:
            let repositoryID = try readRepositoryID(from: &reader)
            let byteCount: UInt64 = try reader.read()
            let flags: UInt8 = try reader.read()
            guard flags <= 1 else { throw reader.malformed("unknown flags \(flags)") }
            return .baseCopyStart(BaseCopyStart(repositoryID: repositoryID, byteCount: byteCount, compressed: flags == 1))
        case .baseCopyData:
            let offset: UInt64 = try reader.read()
            let bytes = reader.readRest()
            guard (1...BaseCopyProtocol.maxChunkBytes).contains(bytes.count) else {
                throw reader.malformed("a chunk of \(bytes.count) bytes is outside 1...\(BaseCopyProtocol.maxChunkBytes)")
            }
            return .baseCopyData(BaseCopyChunk(offset: offset, bytes: Array(bytes)))
        case .baseCopyEnd:
            return .baseCopyEnd(
                BaseCopyEnd(
                    repositoryID: try readRepositoryID(from: &reader), position: try readPosition(from: &reader),
                    byteCount: try reader.read(), crc: try reader.read(), digest: Array(try reader.readBytes(32)),
                    proof: Array(try reader.readBytes(HelloProof.bytes))))
        default:
            preconditionFailure("\(type) is not a base-copy message")
        }
    }

    private static func readBaseCopyRequest(from reader: inout WireReader) throws(ProtocolViolation) -> ReplicationMessage {
        guard try reader.readBytes(BaseCopyProtocol.magic.count).elementsEqual(BaseCopyProtocol.magic) else {
            throw reader.malformed("it does not start with the base-copy magic (not an Understudy standby?)")
        }
        let version: UInt16 = try reader.read()
        // Like a foreign hello: read nothing more, so the primary can answer naming both versions.
        guard version == BaseCopyProtocol.version else {
            _ = reader.readRest()
            return .foreignBaseCopyRequest(version: version)
        }
        let sourceID = try readSourceID(from: &reader)
        let nonce = Array(try reader.readBytes(BaseCopyProtocol.nonceBytes))
        let proof = Array(try reader.readBytes(HelloProof.bytes))
        return .baseCopyRequest(BaseCopyRequest(sourceID: sourceID, nonce: nonce, proof: proof))
    }
}
