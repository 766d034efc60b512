import Foundation
import Tranlog

/// A part's header (see the format in BackupWriter.swift).
struct BackupPartHeader {
    var partIndex: Int
    var description: BackupDescription

    func encode() -> [UInt8] {
        let json = JSONCoding.encode(description)
        precondition(json.count <= BackupFormat.maxDescriptionBytes, "a backup description of \(json.count) bytes")
        var writer = ByteWriter()
        writer.append(contentsOf: BackupFormat.magic)
        writer.append(UInt16(BackupFormat.version))
        writer.append(UInt32(partIndex))
        writer.append(contentsOf: withUnsafeBytes(of: description.backupID.uuid) { Array($0) })
        writer.append(UInt32(json.count))
        writer.append(contentsOf: json)
        writer.append(Checksum.crc32(writer.bytes))
        return writer.bytes
    }

    /// Reads the header at the start of `content`, checking its magic, version, CRC and JSON.
    static func read(from content: inout BackupContent) throws(BackupError) -> BackupPartHeader {
        guard let magic = try content.readIfAvailable(BackupFormat.magic.count), magic.elementsEqual(BackupFormat.magic) else {
            throw .notABackup(file: content.file)
        }
        let fixed = try content.read(BackupFormat.headerFixedBytes - magic.count, inside: "the header")
        var reader = ByteReader(fixed)
        let version = Int(reader.read(UInt16.self)!)
        guard version == BackupFormat.version else { throw .unsupportedVersion(file: content.file, version: version) }
        let partIndex = Int(reader.read(UInt32.self)!)
        let backupID = uuid(reader.readBytes(16)!)
        let jsonLength = Int(reader.read(UInt32.self)!)
        guard jsonLength <= BackupFormat.maxDescriptionBytes else {
            throw content.corrupt(.header, at: 0, "a description length of \(jsonLength) bytes is impossible")
        }
        let json = try content.read(jsonLength, inside: "the header")
        let computed = Checksum.crc32(json, seed: Checksum.crc32(fixed, seed: Checksum.crc32(magic)))
        var crcReader = ByteReader(try content.read(4, inside: "the header"))
        let stored = crcReader.read(UInt32.self)!
        guard stored == computed else { throw content.corrupt(.header, at: 0, "CRC mismatch (stored \(stored), computed \(computed))") }
        let description = try decodeDescription(json, content: content)
        guard description.formatVersion == version, description.backupID == backupID else {
            throw content.corrupt(.header, at: 0, "its fields and its description disagree on the version or backup id")
        }
        return BackupPartHeader(partIndex: partIndex, description: description)
    }

    private static func decodeDescription(_ json: ArraySlice<UInt8>, content: BackupContent) throws(BackupError) -> BackupDescription {
        do { return try JSONDecoder().decode(BackupDescription.self, from: Data(json)) } catch {
            throw content.corrupt(.header, at: 0, "its description does not decode: \(error)")
        }
    }

    private static func uuid(_ bytes: ArraySlice<UInt8>) -> UUID {
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { target in
            for (index, byte) in bytes.enumerated() { target[index] = byte }
        }
        return UUID(uuid: raw)
    }
}

/// A part's trailer (see the format in BackupWriter.swift).
struct BackupPartTrailer: Hashable {
    var isFinal: Bool
    var objectCount: UInt64
    var chainCRC: UInt32

    func encode() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(BackupFormat.SectionKind.trailer.rawValue)
        writer.append(UInt8(isFinal ? 1 : 0))
        writer.append(objectCount)
        writer.append(chainCRC)
        writer.append(Checksum.crc32(writer.bytes))
        precondition(writer.bytes.count == BackupFormat.trailerBytes)
        return writer.bytes
    }

    /// The trailer in `bytes` (kind byte included), or nil when they are not a valid one.
    static func decode(_ bytes: some Collection<UInt8>) -> BackupPartTrailer? {
        let bytes = Array(bytes)
        guard bytes.count == BackupFormat.trailerBytes else { return nil }
        var reader = ByteReader(bytes[...])
        let kind = reader.read(UInt8.self)!, final = reader.read(UInt8.self)!
        let objectCount = reader.read(UInt64.self)!, chainCRC = reader.read(UInt32.self)!
        guard reader.read(UInt32.self)! == Checksum.crc32(bytes[..<(BackupFormat.trailerBytes - 4)]),
            kind == BackupFormat.SectionKind.trailer.rawValue, final <= 1
        else { return nil }
        return BackupPartTrailer(isFinal: final == 1, objectCount: objectCount, chainCRC: chainCRC)
    }
}

/// Collects objects, in key order, into the next block (writer side).
struct BackupBlockBuilder {
    private var data = ByteWriter()
    private(set) var entryCount: UInt32 = 0

    var isEmpty: Bool { entryCount == 0 }
    var isFull: Bool { data.bytes.count >= BackupFormat.targetBlockBytes }

    mutating func add(key: [UInt8], object: StoredObject) {
        ExtentEntryCoding.encode(ExtentEntry(key: key, value: object.value, seqno: object.seqno), into: &data)
        entryCount += 1
    }

    /// The encoded block, chained to `chainCRC`, which becomes this block's; the builder starts afresh.
    mutating func take(chainingFrom chainCRC: inout UInt32) -> [UInt8] {
        var block = ByteWriter()
        block.append(BackupFormat.SectionKind.block.rawValue)
        block.append(entryCount)
        block.append(UInt32(data.bytes.count))
        chainCRC = Checksum.crc32(data.bytes, seed: Checksum.crc32(block.bytes, seed: chainCRC))
        block.append(chainCRC)
        block.append(contentsOf: data.bytes)
        data.bytes.removeAll(keepingCapacity: true)
        entryCount = 0
        return block.bytes
    }
}
