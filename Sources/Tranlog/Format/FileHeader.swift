/// The first 128 bytes of every tranlog file:
///
///     offset  size  field
///     0       8     magic "USTRNLOG"
///     8       2     formatVersion (1)
///     10      2     headerSize (128)
///     12      4     flags (0)
///     16      16    repositoryID
///     32      8     fileID
///     40      8     epoch          (of every record in the file)
///     48      8     creationTime   (µs since the Unix epoch)
///     56      8     firstSeqno     (= previousLastSeqno + 1)
///     64      8     previousLastSeqno       (0 for a repository's first file)
///     72      4     previousLastRecordCRC   (the chain; 0 for a repository's first file)
///     76      48    reserved, zero
///     124     4     headerCRC      (CRC-32 of bytes 0..<124)
public struct FileHeader: Hashable, Sendable {
    public static let magic: [UInt8] = Array("USTRNLOG".utf8)
    public static let formatVersion: UInt16 = 1
    public static let size = 128

    public var repositoryID: RepositoryID
    public var fileID: FileID
    public var epoch: Epoch
    public var creationTime: Timestamp
    public var previousLastSeqno: Seqno
    public var previousLastRecordCRC: UInt32

    public init(
        repositoryID: RepositoryID, fileID: FileID, epoch: Epoch, creationTime: Timestamp,
        previousLastSeqno: Seqno, previousLastRecordCRC: UInt32
    ) {
        self.repositoryID = repositoryID
        self.fileID = fileID
        self.epoch = epoch
        self.creationTime = creationTime
        self.previousLastSeqno = previousLastSeqno
        self.previousLastRecordCRC = previousLastRecordCRC
    }

    /// The seqno the file's first record must have.
    public var firstSeqno: Seqno { previousLastSeqno.next }

    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.append(contentsOf: Self.magic)
        writer.append(Self.formatVersion)
        writer.append(UInt16(Self.size))
        writer.append(UInt32(0))
        writer.append(contentsOf: repositoryID.bytes)
        writer.append(fileID.rawValue)
        writer.append(epoch.rawValue)
        writer.append(creationTime.rawValue)
        writer.append(firstSeqno.rawValue)
        writer.append(previousLastSeqno.rawValue)
        writer.append(previousLastRecordCRC)
        writer.appendZeros(Self.size - 4 - writer.bytes.count)
        writer.append(Checksum.crc32(writer.bytes))
        precondition(writer.bytes.count == Self.size)
        return writer.bytes
    }

    /// Decodes and checks a header; the error says which field is wrong.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> Result<FileHeader, FileHeaderDefect> {
        guard bytes.count >= size else { return .failure(.tooShort(bytes.count)) }
        let header = bytes.prefix(size)
        guard header.prefix(magic.count).elementsEqual(magic) else { return .failure(.badMagic) }
        let stored = readLittleEndian(UInt32.self, in: header, at: header.startIndex + size - 4)
        let computed = Checksum.crc32(header.prefix(size - 4))
        guard stored == computed else { return .failure(.checksumMismatch(stored: stored, computed: computed)) }
        var reader = ByteReader(header.dropFirst(magic.count))
        let version: UInt16 = reader.read()!
        guard version == formatVersion else { return .failure(.unsupportedVersion(version)) }
        let declaredSize: UInt16 = reader.read()!
        let flags: UInt32 = reader.read()!
        guard declaredSize == size, flags == 0 else { return .failure(.unsupportedLayout(size: declaredSize, flags: flags)) }
        let repositoryID = RepositoryID(bytes: reader.readBytes(16)!)
        let fileID = FileID(reader.read()!)
        let epoch = Epoch(reader.read()!)
        let creationTime = Timestamp(rawValue: reader.read()!)
        let firstSeqno = Seqno(reader.read()!)
        let previousLastSeqno = Seqno(reader.read()!)
        let previousCRC: UInt32 = reader.read()!
        guard firstSeqno == previousLastSeqno.next else {
            return .failure(.inconsistentSeqnos(first: firstSeqno, previousLast: previousLastSeqno))
        }
        return .success(
            FileHeader(
                repositoryID: repositoryID, fileID: fileID, epoch: epoch, creationTime: creationTime,
                previousLastSeqno: previousLastSeqno, previousLastRecordCRC: previousCRC))
    }
}

/// What is wrong with a file header.
public enum FileHeaderDefect: Error, Hashable, Sendable, CustomStringConvertible {
    case tooShort(Int)
    case badMagic
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case unsupportedVersion(UInt16)
    case unsupportedLayout(size: UInt16, flags: UInt32)
    case inconsistentSeqnos(first: Seqno, previousLast: Seqno)

    public var description: String {
        switch self {
        case .tooShort(let count): "file is \(count) bytes, shorter than the \(FileHeader.size)-byte header"
        case .badMagic: "not a tranlog file (bad magic)"
        case .checksumMismatch(let stored, let computed):
            "header CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .unsupportedVersion(let version):
            "format version \(version) is not supported (this build reads version \(FileHeader.formatVersion))"
        case .unsupportedLayout(let size, let flags): "unsupported header layout (size \(size), flags \(flags))"
        case .inconsistentSeqnos(let first, let previousLast):
            "header says first seqno \(first) but previous last seqno \(previousLast)"
        }
    }
}
