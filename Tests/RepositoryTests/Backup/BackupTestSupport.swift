import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// Full backups and streaming gzip. Every suite nests here so `swift test --filter BackupTests` runs them all.
@Suite enum BackupTests {
    static let directory = FilePath("/backups")
    static let repositoryID = RepositoryID("3d0c9a51-27b4-4f7e-9a61-0c2e5d8b7f10")!
    static let source = SourceID("primary-1")!
    static let time = Timestamp(microsecondsSinceEpoch: 1_763_780_000_000_000)

    /// A file system holding an empty backups directory.
    static func backupFileSystem() -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        try! fileSystem.createDirectory(directory)
        return fileSystem
    }

    static func path(_ name: String) -> FilePath { directory.appending(name) }

    static func description(seqno: UInt64 = 5_000, label: String? = "nightly") -> BackupDescription {
        BackupDescription(
            repositoryID: repositoryID,
            position: AppliedPosition(seqno: Seqno(seqno), epoch: .first, eventID: nil, sourceID: source, time: time, recordCRC: 0x1234_5678),
            loggingMode: .full,
            epochHistory: EpochHistory(first: EpochEntry(epoch: .first, startSeqno: Seqno(1), parentEpoch: .none, time: time, sourceID: source)),
            createdAt: time, label: label)
    }

    /// `count` objects with seqnos up to 5,000: keys of varied length, values half random (they do not
    /// compress) and half repetitive (they do), up to `maxValueBytes`.
    static func randomTable(count: Int, maxValueBytes: Int = 300, using random: inout SeededRandom) -> ObjectTable {
        var table = ObjectTable()
        for index in 0..<count {
            let key = Array("key-\(index)-".utf8) + randomBytes(Int.random(in: 0...24, using: &random), using: &random)
            let length = Int.random(in: 0...maxValueBytes, using: &random)
            let value = index % 2 == 0 ? randomBytes(length, using: &random) : Array(repeating: UInt8(index % 251), count: length)
            table.apply([.put(key: key, value: value)], seqno: Seqno(UInt64.random(in: 1...5_000, using: &random)))
        }
        return table
    }

    static func randomBytes(_ count: Int, using random: inout SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    static func seeded(_ name: String) -> SeededRandom {
        let seed = testSeed()
        print("\(name): seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        return SeededRandom(seed: seed)
    }

    static func write(
        _ table: ObjectTable, _ targets: [BackupTarget], compress: Bool = false, description: BackupDescription = description(),
        fileSystem: any TranlogFileSystem
    ) throws -> BackupSummary {
        try BackupWriter.write(table, description: description, to: targets, compress: compress, fileSystem: fileSystem) { _ in }
    }

    static func objects(of table: ObjectTable) -> [[UInt8]: StoredObject] {
        Dictionary(uniqueKeysWithValues: table.sortedObjects().map { ($0.key, $0.object) })
    }

    /// Every object of the backup in `paths`, checking that they come in key order.
    static func readBack(_ paths: [FilePath], fileSystem: any TranlogFileSystem) throws -> [[UInt8]: StoredObject] {
        var found: [[UInt8]: StoredObject] = [:]
        var previous: [UInt8]?
        try BackupReader.open(paths, fileSystem: fileSystem).forEachObject { (key, object) throws(BackupError) in
            #expect(previous.map { $0.lexicographicallyPrecedes(key) } ?? true, "keys out of order")
            previous = key
            found[key] = object
        }
        return found
    }

    /// Asserts `body` throws a `BackupError` matching `expected` and returns it for message checks.
    @discardableResult
    static func expectBackupError(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void, _ expected: (BackupError) -> Bool
    ) -> BackupError? {
        do {
            try body()
            Issue.record("expected a BackupError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as BackupError {
            #expect(expected(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected a BackupError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// The backup files present, by name.
    static func files(_ fileSystem: any TranlogFileSystem) -> [String] {
        (try? fileSystem.contentsOfDirectory(directory).sorted()) ?? []
    }
}

/// An encoder written from the format comment in BackupWriter.swift alone (only the JSON coder is
/// shared), for one uncompressed part: it pins the writer's output byte for byte and lets tests
/// locate blocks.
struct SpecBackupEncoder {
    var description: BackupDescription

    /// The part's content, with the offset of each block.
    func encode(part: Int, blocks: [[(key: [UInt8], object: StoredObject)]], chainSeed: UInt32 = 0, objectsBefore: Int = 0, final: Bool)
        -> (bytes: [UInt8], blockOffsets: [Int])
    {
        let json = JSONCoding.encode(description)
        var file = Array("USBACKUP".utf8)
        Self.append(UInt16(1), to: &file)
        Self.append(UInt32(part), to: &file)
        file += withUnsafeBytes(of: description.backupID.uuid) { Array($0) }
        Self.append(UInt32(json.count), to: &file)
        file += json
        Self.append(Checksum.crc32(file), to: &file)
        var chain = chainSeed
        var offsets: [Int] = []
        for block in blocks {
            offsets.append(file.count)
            var data: [UInt8] = []
            for (key, object) in block {
                Self.append(UInt16(key.count), to: &data)
                data.append(0)
                Self.append(object.seqno.rawValue, to: &data)
                Self.append(UInt32(object.value.count), to: &data)
                data += key + object.value
            }
            var fields: [UInt8] = [1]
            Self.append(UInt32(block.count), to: &fields)
            Self.append(UInt32(data.count), to: &fields)
            chain = Checksum.crc32(fields + data, seed: chain)
            Self.append(chain, to: &fields)
            file += fields + data
        }
        var trailer: [UInt8] = [2, final ? 1 : 0]
        Self.append(UInt64(objectsBefore + blocks.joined().count), to: &trailer)
        Self.append(chain, to: &trailer)
        Self.append(Checksum.crc32(trailer), to: &trailer)
        return (file + trailer, offsets)
    }

    private static func append<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
