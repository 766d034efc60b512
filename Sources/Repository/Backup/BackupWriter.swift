import SystemPackage
import Tranlog

/// The full backup, format version 1: every live object as of one position, in one or more files
/// ("parts", numbered from 0 in the order written). Integers are little-endian; every CRC is CRC-32
/// (zlib/IEEE polynomial). Below is a part's *content*: an uncompressed backup file is its content;
/// a compressed one is its content as a single gzip member, so `zcat` prints the content. Readers tell
/// the two apart by gzip's magic (1f 8b), per file, so a file gzipped afterwards still reads.
///
///     part header (at offset 0)
///     offset  size  field
///     0       8     magic "USBACKUP"
///     8       2     formatVersion (1)
///     10      4     partIndex            (0 for the first file, then 1, 2, …)
///     14      16    backupID             (the UUID's 16 bytes; the same in every part)
///     30      4     descriptionLength n  (≤ 16 MiB)
///     34      n     the `BackupDescription` as UTF-8 JSON, keys sorted (the same in every part; its
///                   formatVersion and backupID equal the fields above)
///     34+n    4     headerCRC            (CRC-32 of bytes 0..<34+n)
///
///     then sections, each opening with a kind byte: zero or more blocks, one trailer, nothing after.
///
///     block (13 bytes, then its data)
///     0       1     kind (1)
///     1       4     entryCount           (≥ 1)
///     5       4     dataLength           (≤ 64 KiB + 15 + 1024 + 16 MiB)
///     9       4     chainCRC             (CRC-32 of block bytes 0..<9 followed by the data, seeded with
///                                         the chainCRC of the backup's previous block, in this part or
///                                         an earlier one; 0 before the backup's first block)
///     13      dataLength bytes: entryCount entries in the extent entry layout (ExtentRunWriter.swift):
///             keyLength u16 (1...1024), kind u8 (always 0: a backup holds no tombstones),
///             seqno u64, valueLength u32 (≤ 16 MiB), key, value
///
///     trailer (18 bytes, the end of the content)
///     0       1     kind (2)
///     1       1     final                (1: the backup's last part; 0: it continues in part partIndex+1)
///     2       8     objectCount          (entries in this part and every part before it)
///     10      4     chainCRC             (the last block's chainCRC so far, i.e. a CRC of every block up
///                                         to here; the value carried in when the part has no blocks)
///     14      4     trailerCRC           (CRC-32 of trailer bytes 0..<14)
///
/// Keys are unique and strictly increasing in unsigned byte order across the whole backup; no entry's
/// seqno is above the description's `position.seqno`. A block ends with the entry that brings its data
/// to 64 KiB or more, and no object is ever split across blocks or files. Before each block the writer
/// looks at the bytes on disk of the current file (compressed bytes when compressing: it flushes gzip,
/// `Z_SYNC_FLUSH`, after the header and after each block, so the count is exact): when they have
/// reached the target's limit and a later target exists, it writes the trailer with final 0 and goes
/// on in the next file. So a file passes its limit by at most one block, the trailer and gzip's end;
/// the last target is never limited; targets not needed are not created. An empty repository gives
/// one part with no blocks. Compression is gzip level 1 (fast: the backup shares the machine with
/// commits).
///
/// A reader checks every file's header (magic, version, CRC, backupID, partIndex in the order given)
/// and that the last file's trailer says final; then, reading in order, each block's length bound,
/// chain CRC, entries and key order, and each trailer's CRC, object count, chain CRC, final flag and
/// that nothing follows it.
enum BackupFormat {
    static let magic: [UInt8] = Array("USBACKUP".utf8)
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]
    static let version = 1
    /// The header up to the description.
    static let headerFixedBytes = 34
    static let maxDescriptionBytes = 16 * 1024 * 1024
    /// A block's kind byte and fields, before its data.
    static let blockHeaderBytes = 13
    static let trailerBytes = 18
    static let targetBlockBytes = 64 * 1024
    /// The largest block a writer produces: just under the target, then one maximal entry.
    static let maxBlockBytes = targetBlockBytes + ExtentFormat.entryFixedBytes + TranlogLimits.maxKeyBytes + TranlogLimits.maxValueBytes
    static let gzipLevel: Int32 = 1
    static let progressInterval = 1000

    enum SectionKind: UInt8 {
        case block = 1
        case trailer = 2
    }
}

/// Writes full backups (the manual's `fullBackupTo:MBytes:` and `fullBackupCompressedTo:MBytes:`).
public enum BackupWriter {
    /// Checks every target before anything is written: a non-empty file name, given once, in an
    /// existing directory, not an existing file. With `compress`, ".gz" is appended to names lacking
    /// it and the checks apply to the final name. Returns the targets as they will be written, the
    /// last one unlimited.
    public static func prepare(
        _ targets: [BackupTarget], compress: Bool, fileSystem: any TranlogFileSystem
    ) throws(BackupError) -> [BackupTarget] {
        guard !targets.isEmpty else { throw .noFiles }
        var seen: Set<FilePath> = []
        var prepared: [BackupTarget] = []
        for (index, target) in targets.enumerated() {
            guard let name = target.path.lastComponent?.string, !name.isEmpty else { throw .emptyFileName(target: index) }
            let path = compress && !name.hasSuffix(".gz") ? FilePath(target.path.string + ".gz") : target.path
            guard seen.insert(path).inserted else { throw .duplicateTarget(file: path.string) }
            let directory = directory(of: path)
            do throws(TranlogError) { _ = try fileSystem.contentsOfDirectory(directory) } catch {
                throw .directoryUnusable(file: path.string, directory: directory.string, cause: error)
            }
            guard !fileSystem.fileExists(path) else { throw .fileExists(file: path.string) }
            prepared.append(BackupTarget(path: path, limitBytes: index == targets.count - 1 ? nil : target.limitBytes))
        }
        return prepared
    }

    /// Writes every object of the snapshot `objects`, in key order, across `targets` (checked first
    /// as `prepare` does), then syncs every file and directory. On any failure, a full disk included,
    /// deletes every file it created before throwing. `progress` gets the number of objects written
    /// so far, every 1,000 objects.
    public static func write(
        _ objects: ObjectTable, description: BackupDescription, to targets: [BackupTarget], compress: Bool,
        fileSystem: any TranlogFileSystem, progress: (Int) -> Void
    ) throws(BackupError) -> BackupSummary {
        precondition(description.formatVersion == BackupFormat.version, "this build writes backup version \(BackupFormat.version)")
        let prepared = try prepare(targets, compress: compress, fileSystem: fileSystem)
        var session = BackupWriteSession(description: description, targets: prepared, compress: compress, fileSystem: fileSystem)
        do throws(TranlogError) {
            try session.start()
            // The trie is unordered; sorting makes the backup deterministic and lets readers check key order.
            for (index, entry) in objects.sortedObjects().enumerated() {
                try session.add(key: entry.key, object: entry.object)
                if (index + 1) % BackupFormat.progressInterval == 0 { progress(index + 1) }
            }
            return try session.finish()
        } catch {
            throw .writeFailed(cause: error, leftBehind: session.abandon())
        }
    }

    /// The directory holding `path` ("." for a bare name).
    static func directory(of path: FilePath) -> FilePath {
        let directory = path.removingLastComponent()
        return directory.isEmpty ? FilePath(".") : directory
    }
}
