import Tranlog

/// The base copy's message bodies (framing as in `MessageCodec`; integers little-endian; a "string"
/// is a u8 length and UTF-8; a "file list" is a u32 count, then per file a string path below the
/// data directory and a u64 size):
///
///     9  baseCopyRequest  "USBASE", u16 baseCopyVersion, and for version 2:      standby → primary
///                         string sourceID, 32-byte nonce, u8 resuming (0/1), if 1:
///                         16-byte pinID, u32 count, count × u64 bytes held; then 32-byte
///                         proof = HMAC-SHA256(key, challenge || the body before the proof)
///     10 baseCopyStart    repositoryID, 16-byte pinID, file list                   primary → standby
///     11 baseCopyData     u32 file index, u64 offset, u32 CRC-32 of the bytes,    primary → standby
///                         then the bytes (1 ... 1 MiB)
///     12 baseCopyEnd      repositoryID, u64 epoch, u64 seqno, 16-byte pinID,       primary → standby
///                         u32 count, count × 32-byte SHA-256, 32-byte proof =
///                         HMAC-SHA256(key, nonce || file list || the body before the proof)
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
            writePinID(start.pinID, into: &writer)
            writeFileList(start.files, into: &writer)
        case .baseCopyData(let chunk):
            precondition((1...BaseCopyProtocol.maxChunkBytes).contains(chunk.bytes.count), "a base-copy chunk is 1 byte to 1 MiB")
            writer.append(chunk.file)
            writer.append(chunk.offset)
            writer.append(chunk.crc)
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

    /// What the end's proof covers besides the nonce: the start's file list, then the end's fields.
    static func baseCopyEndFields(_ end: BaseCopyEnd, files: [BaseCopyFile]) -> [UInt8] {
        var writer = ByteWriter()
        writeFileList(files, into: &writer)
        writeBaseCopyEndFields(end, into: &writer)
        return writer.bytes
    }

    private static func writeBaseCopyRequestFields(_ request: BaseCopyRequest, into writer: inout ByteWriter) {
        precondition(request.nonce.count == BaseCopyProtocol.nonceBytes, "a base-copy nonce is \(BaseCopyProtocol.nonceBytes) bytes")
        writer.append(contentsOf: BaseCopyProtocol.magic)
        writer.append(BaseCopyProtocol.version)
        writer.appendShortString(request.sourceID.name)
        writer.append(contentsOf: request.nonce)
        guard let resume = request.resume else { return writer.append(UInt8(0)) }
        writer.append(UInt8(1))
        writePinID(resume.pinID, into: &writer)
        writer.append(UInt32(resume.held.count))
        for held in resume.held { writer.append(held) }
    }

    private static func writeBaseCopyEndFields(_ end: BaseCopyEnd, into writer: inout ByteWriter) {
        writer.append(contentsOf: end.repositoryID.bytes)
        writePosition(end.position, into: &writer)
        writePinID(end.pinID, into: &writer)
        writer.append(UInt32(end.digests.count))
        for digest in end.digests {
            precondition(digest.count == 32, "a base-copy digest is a SHA-256")
            writer.append(contentsOf: digest)
        }
    }

    private static func writePinID(_ pinID: [UInt8], into writer: inout ByteWriter) {
        precondition(pinID.count == BaseCopyProtocol.pinIDBytes, "a pin id is \(BaseCopyProtocol.pinIDBytes) bytes")
        writer.append(contentsOf: pinID)
    }

    private static func writeFileList(_ files: [BaseCopyFile], into writer: inout ByteWriter) {
        writer.append(UInt32(files.count))
        for file in files {
            writer.appendShortString(file.path)
            writer.append(file.size)
        }
    }

    static func readBaseCopyBody(
        _ type: MessageType, from reader: inout WireReader, maxMessageBytes: Int
    ) throws(ProtocolViolation) -> ReplicationMessage {
        switch type {
        case .baseCopyRequest:
            return try readBaseCopyRequest(from: &reader)
        case .baseCopyStart:
            return .baseCopyStart(
                BaseCopyStart(repositoryID: try readRepositoryID(from: &reader), pinID: try readPinID(from: &reader), files: try readFileList(from: &reader)))
        case .baseCopyData:
            let file: UInt32 = try reader.read()
            let offset: UInt64 = try reader.read()
            let crc: UInt32 = try reader.read()
            let bytes = reader.readRest()
            guard (1...BaseCopyProtocol.maxChunkBytes).contains(bytes.count) else {
                throw reader.malformed("a chunk of \(bytes.count) bytes is outside 1...\(BaseCopyProtocol.maxChunkBytes)")
            }
            return .baseCopyData(BaseCopyChunk(file: file, offset: offset, crc: crc, bytes: Array(bytes)))
        case .baseCopyEnd:
            let repositoryID = try readRepositoryID(from: &reader)
            let position = try readPosition(from: &reader)
            let pinID = try readPinID(from: &reader)
            let count = try readCount(from: &reader)
            var digests: [[UInt8]] = []
            for _ in 0..<count { digests.append(Array(try reader.readBytes(32))) }
            return .baseCopyEnd(
                BaseCopyEnd(
                    repositoryID: repositoryID, position: position, pinID: pinID, digests: digests,
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
        var resume: BaseCopyResume?
        switch try reader.read(UInt8.self) {
        case 0: break
        case 1:
            let pinID = try readPinID(from: &reader)
            let count = try readCount(from: &reader)
            var held: [UInt64] = []
            for _ in 0..<count { held.append(try reader.read()) }
            resume = BaseCopyResume(pinID: pinID, held: held)
        case let other: throw reader.malformed("resuming is \(other), not 0 or 1")
        }
        let proof = Array(try reader.readBytes(HelloProof.bytes))
        return .baseCopyRequest(BaseCopyRequest(sourceID: sourceID, nonce: nonce, resume: resume, proof: proof))
    }

    private static func readPinID(from reader: inout WireReader) throws(ProtocolViolation) -> [UInt8] {
        Array(try reader.readBytes(BaseCopyProtocol.pinIDBytes))
    }

    private static func readCount(from reader: inout WireReader) throws(ProtocolViolation) -> Int {
        let count: UInt32 = try reader.read()
        guard count <= BaseCopyProtocol.maxFiles else { throw reader.malformed("\(count) files, more than \(BaseCopyProtocol.maxFiles)") }
        return Int(count)
    }

    private static func readFileList(from reader: inout WireReader) throws(ProtocolViolation) -> [BaseCopyFile] {
        let count = try readCount(from: &reader)
        var files: [BaseCopyFile] = []
        for _ in 0..<count {
            let file = BaseCopyFile(path: try reader.readShortString(), size: try reader.read())
            guard file.isSafe else { throw reader.malformed("the file path '\(file.path)' is not a plain relative path") }
            files.append(file)
        }
        return files
    }
}
