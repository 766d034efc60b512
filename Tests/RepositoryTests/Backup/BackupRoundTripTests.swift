import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension BackupTests {
    /// What is written reads back identically, however it is split and compressed.
    @Suite struct RoundTripTests {
        @Test(arguments: [false, true])
        func singleFile(compress: Bool) throws {
            var random = seeded("singleFile(compress: \(compress))")
            let table = randomTable(count: 2_000, using: &random)
            let fileSystem = backupFileSystem()
            let summary = try write(table, [BackupTarget(path: path("full"))], compress: compress, fileSystem: fileSystem)
            let name = compress ? "full.gz" : "full"
            #expect(summary.files == [path(name).string])
            #expect(summary.objectCount == table.count)
            #expect(summary.byteCount == UInt64(fileSystem.contents(of: path(name))!.count))
            #expect(compress ? summary.byteCount < summary.uncompressedBytes : summary.byteCount == summary.uncompressedBytes)
            #expect(try readBack([path(name)], fileSystem: fileSystem) == objects(of: table))
        }

        /// Each limited file ends after the block that reaches its limit; the last takes the rest,
        /// whatever limit it was given.
        @Test(arguments: [false, true])
        func multiFileLimits(compress: Bool) throws {
            var random = seeded("multiFileLimits(compress: \(compress))")
            let table = randomTable(count: 6_000, using: &random)
            let fileSystem = backupFileSystem()
            let limits: [UInt64] = compress ? [60_000, 90_000, 1_000] : [100_000, 150_000, 1_000]
            let targets = zip(["part-1", "part-2", "part-3"], limits).map { BackupTarget(path: path($0), limitBytes: $1) }
            let summary = try write(table, targets, compress: compress, fileSystem: fileSystem)
            let paths = summary.files.map { FilePath($0) }
            #expect(paths == targets.map { FilePath($0.path.string + (compress ? ".gz" : "")) })
            let sizes = paths.map { UInt64(fileSystem.contents(of: $0)!.count) }
            let slack = UInt64(BackupFormat.targetBlockBytes + 400 + BackupFormat.trailerBytes + 64)
            for (size, limit) in zip(sizes.dropLast(), limits) { #expect(size >= limit && size <= limit + slack, "size \(size), limit \(limit)") }
            #expect(sizes.last! > limits.last!)
            #expect(summary.byteCount == sizes.reduce(0, +))
            #expect(try readBack(paths, fileSystem: fileSystem) == objects(of: table))
        }

        @Test func unneededTargetsAreNotCreated() throws {
            var random = seeded("unneededTargetsAreNotCreated")
            let table = randomTable(count: 100, using: &random)
            let fileSystem = backupFileSystem()
            let targets = ["a", "b", "c"].map { BackupTarget(path: path($0), limitBytes: 1 << 30) }
            let summary = try write(table, targets, fileSystem: fileSystem)
            #expect(summary.files == [path("a").string])
            #expect(files(fileSystem) == ["a"])
            #expect(try readBack([path("a")], fileSystem: fileSystem) == objects(of: table))
        }

        /// Compression is detected per file: a part gzipped after the backup was written still reads.
        @Test func partGzippedAfterwards() throws {
            var random = seeded("partGzippedAfterwards")
            let table = randomTable(count: 3_000, using: &random)
            let fileSystem = backupFileSystem()
            let targets = [BackupTarget(path: path("a"), limitBytes: 200_000), BackupTarget(path: path("b"))]
            _ = try write(table, targets, fileSystem: fileSystem)
            fileSystem.overwrite(path("b.gz"), with: Gzip.compress(fileSystem.contents(of: path("b"))!))
            #expect(try readBack([path("a"), path("b.gz")], fileSystem: fileSystem) == objects(of: table))
        }

        @Test(arguments: [false, true])
        func oneMebibyteValue(compress: Bool) throws {
            var random = seeded("oneMebibyteValue(compress: \(compress))")
            var table = randomTable(count: 50, using: &random)
            table.apply([.put(key: Array("big".utf8), value: randomBytes(1 << 20, using: &random))], seqno: Seqno(7))
            let fileSystem = backupFileSystem()
            let targets = [BackupTarget(path: path("a"), limitBytes: 1_000), BackupTarget(path: path("b"))]
            let summary = try write(table, targets, compress: compress, fileSystem: fileSystem)
            #expect(try readBack(summary.files.map { FilePath($0) }, fileSystem: fileSystem) == objects(of: table))
        }

        @Test(arguments: [false, true])
        func emptyRepository(compress: Bool) throws {
            let fileSystem = backupFileSystem()
            let targets = [BackupTarget(path: path("a"), limitBytes: 1), BackupTarget(path: path("b"))]
            let summary = try write(ObjectTable(), targets, compress: compress, description: description(seqno: 0), fileSystem: fileSystem)
            #expect(summary.files.count == 1 && summary.objectCount == 0)
            let reader = try BackupReader.open(summary.files.map { FilePath($0) }, fileSystem: fileSystem)
            #expect(try reader.verify().objectCount == 0)
            #expect(try readBack(summary.files.map { FilePath($0) }, fileSystem: fileSystem).isEmpty)
        }

        @Test func verifyReportsCountPositionAndSizes() throws {
            var random = seeded("verifyReportsCountPositionAndSizes")
            let table = randomTable(count: 2_500, using: &random)
            let fileSystem = backupFileSystem()
            let written = description(label: "before upgrade")
            let targets = [BackupTarget(path: path("a"), limitBytes: 150_000), BackupTarget(path: path("b"))]
            let summary = try write(table, targets, compress: true, description: written, fileSystem: fileSystem)
            let reader = try BackupReader.open(summary.files.map { FilePath($0) }, fileSystem: fileSystem)
            #expect(reader.description == written)
            #expect(reader.description.position.seqno == Seqno(5_000))
            #expect(try reader.verify() == summary)
        }

        @Test func progressEveryThousandObjects() throws {
            var random = seeded("progressEveryThousandObjects")
            let table = randomTable(count: 2_500, maxValueBytes: 10, using: &random)
            var reported: [Int] = []
            _ = try BackupWriter.write(
                table, description: description(), to: [BackupTarget(path: path("a"))], compress: false, fileSystem: backupFileSystem()
            ) { reported.append($0) }
            #expect(reported == [1_000, 2_000])
        }

        /// The writer matches the format comment byte for byte: keys sorted, one block per 64 KiB.
        @Test func matchesTheSpecification() throws {
            var random = seeded("matchesTheSpecification")
            let table = randomTable(count: 800, using: &random)
            let fileSystem = backupFileSystem()
            let described = description()
            _ = try write(table, [BackupTarget(path: path("a"))], description: described, fileSystem: fileSystem)
            let sorted = table.sortedObjects()
            let expected = SpecBackupEncoder(description: described).encode(part: 0, blocks: Self.blocks(sorted), final: true).bytes
            let written = fileSystem.contents(of: path("a"))!
            let firstDifference = zip(written, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(written.count, expected.count)
            #expect(written == expected, "\(written.count) bytes written, \(expected.count) specified, first difference at \(firstDifference)")
        }

        /// Splits objects into blocks the way the format comment says: a block ends with the entry
        /// that brings its data to 64 KiB or more.
        static func blocks(_ objects: [(key: [UInt8], object: StoredObject)]) -> [[(key: [UInt8], object: StoredObject)]] {
            var blocks: [[(key: [UInt8], object: StoredObject)]] = [[]]
            var size = 0
            for entry in objects {
                blocks[blocks.count - 1].append(entry)
                size += 15 + entry.key.count + entry.object.value.count
                if size >= 64 * 1024 {
                    blocks.append([])
                    size = 0
                }
            }
            return blocks.last!.isEmpty ? blocks.dropLast() : blocks
        }
    }
}
