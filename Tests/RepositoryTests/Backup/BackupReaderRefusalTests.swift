import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension BackupTests {
    /// Every wrong or damaged set of files is refused with an error naming the file and what is wrong.
    @Suite struct ReaderRefusalTests {
        /// Two backups of three parts each, uncompressed: a0 a1 a2 and b0 b1 b2.
        static func twoBackups() throws -> (fileSystem: SimulatedFileSystem, a: [FilePath], b: [FilePath], idA: UUID, idB: UUID) {
            var random = SeededRandom(seed: 7)
            let table = randomTable(count: 3_000, using: &random)
            let fileSystem = backupFileSystem()
            var ids: [UUID] = []
            var sets: [[FilePath]] = []
            for name in ["a", "b"] {
                let described = description()
                let targets = (0..<3).map { BackupTarget(path: path("\(name)\($0)"), limitBytes: 150_000) }
                sets.append(try write(table, targets, description: described, fileSystem: fileSystem).files.map { FilePath($0) })
                ids.append(described.backupID)
            }
            #expect(sets.allSatisfy { $0.count == 3 })
            return (fileSystem, sets[0], sets[1], ids[0], ids[1])
        }

        @Test func fileOfAnotherBackup() throws {
            let (fileSystem, a, b, idA, idB) = try Self.twoBackups()
            expectBackupError({ _ = try BackupReader.open([a[0], b[1], a[2]], fileSystem: fileSystem) }) {
                $0 == .otherBackup(file: b[1].string, found: idB, expected: idA, firstFile: a[0].string)
            }
        }

        @Test func wrongOrder() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            expectBackupError({ _ = try BackupReader.open([a[1], a[0], a[2]], fileSystem: fileSystem) }) {
                $0 == .wrongPart(file: a[1].string, found: 1, expected: 0)
            }
            expectBackupError({ _ = try BackupReader.open([a[0], a[2], a[1]], fileSystem: fileSystem) }) {
                $0 == .wrongPart(file: a[2].string, found: 2, expected: 1)
            }
        }

        @Test func missingFinalPart() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            let error = expectBackupError({ _ = try BackupReader.open(Array(a.prefix(2)), fileSystem: fileSystem) }) {
                $0 == .notFinalPart(file: a[1].string, part: 1)
            }
            #expect(error?.description.contains("continues in part 2") == true)
        }

        @Test func missingFile() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            expectBackupError({ _ = try BackupReader.open([a[0], path("nothing"), a[2]], fileSystem: fileSystem) }) {
                if case .unreadable(file: path("nothing").string, part: 1, .io(_, _, ENOENT)) = $0 { return true } else { return false }
            }
        }

        @Test func notABackup() throws {
            let fileSystem = backupFileSystem()
            fileSystem.overwrite(path("x"), with: Array("hello, world".utf8))
            expectBackupError({ _ = try BackupReader.open([path("x")], fileSystem: fileSystem) }) { $0 == .notABackup(file: path("x").string) }
        }

        /// The last file is cut: `open` sees no trailer. A middle file is cut: reading stops there.
        @Test func truncatedFiles() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            let last = fileSystem.contents(of: a[2])!
            fileSystem.overwrite(a[2], with: Array(last.dropLast(5)))
            expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem) }) {
                if case .truncated(file: a[2].string, part: 2, offset: UInt64(last.count - 5), _) = $0 { return true } else { return false }
            }
            fileSystem.overwrite(a[2], with: last)
            let middle = fileSystem.contents(of: a[1])!
            fileSystem.overwrite(a[1], with: Array(middle.prefix(middle.count / 2)))
            let reader = try BackupReader.open(a, fileSystem: fileSystem)
            expectBackupError({ _ = try reader.verify() }) {
                if case .truncated(file: a[1].string, part: 1, offset: UInt64(middle.count / 2), _) = $0 { return true } else { return false }
            }
        }

        @Test func truncatedCompressedFile() throws {
            var random = SeededRandom(seed: 9)
            let fileSystem = backupFileSystem()
            let targets = [BackupTarget(path: path("a"), limitBytes: 50_000), BackupTarget(path: path("b"))]
            let paths = try write(randomTable(count: 2_000, using: &random), targets, compress: true, fileSystem: fileSystem).files.map { FilePath($0) }
            for damaged in paths {
                let bytes = fileSystem.contents(of: damaged)!
                fileSystem.overwrite(damaged, with: Array(bytes.dropLast(100)))
                expectBackupError({ _ = try BackupReader.open(paths, fileSystem: fileSystem).verify() }) {
                    if case .damagedCompression(file: damaged.string, _, _) = $0 { return true } else { return false }
                }
                fileSystem.overwrite(damaged, with: bytes)
            }
        }

        /// A flipped byte in any block of any part is found by that block's CRC.
        @Test func flippedByteNamesFileAndBlock() throws {
            var random = seeded("flippedByteNamesFileAndBlock")
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            for (part, file) in a.enumerated() {
                let bytes = fileSystem.contents(of: file)!
                let offsets = try Self.blockOffsets(bytes)
                let block = Int.random(in: 0..<offsets.count, using: &random)
                let end = block + 1 < offsets.count ? offsets[block + 1] : bytes.count - BackupFormat.trailerBytes
                var damaged = bytes
                damaged[Int.random(in: offsets[block]..<end, using: &random)] ^= 0x10
                fileSystem.overwrite(file, with: damaged)
                let error = expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem).verify() }) {
                    if case .corrupt(file: file.string, part: part, region: .block(block), offset: UInt64(offsets[block]), _) = $0 {
                        return true
                    }
                    return false
                }
                #expect(error?.description.contains("\(file.string) (part \(part)): corrupt block \(block)") == true)
                fileSystem.overwrite(file, with: bytes)
            }
        }

        /// A block removed whole breaks the chain at the block after it.
        @Test func removedBlockBreaksTheChain() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            let bytes = fileSystem.contents(of: a[1])!
            let offsets = try Self.blockOffsets(bytes)
            fileSystem.overwrite(a[1], with: Array(bytes[..<offsets[1]] + bytes[offsets[2]...]))
            expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem).verify() }) {
                if case .corrupt(file: a[1].string, part: 1, region: .block(1), offset: UInt64(offsets[1]), _) = $0 { return true }
                return false
            }
        }

        @Test func damagedHeaderOrTrailer() throws {
            let (fileSystem, a, _, _, _) = try Self.twoBackups()
            let bytes = fileSystem.contents(of: a[0])!
            var damaged = bytes
            damaged[60] ^= 0x01
            fileSystem.overwrite(a[0], with: damaged)
            expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem) }) {
                if case .corrupt(file: a[0].string, part: 0, region: .header, offset: 0, _) = $0 { return true } else { return false }
            }
            damaged = bytes
            damaged[bytes.count - 10] ^= 0x01
            fileSystem.overwrite(a[0], with: damaged)
            expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem).verify() }) {
                if case .corrupt(file: a[0].string, part: 0, region: .trailer, offset: UInt64(bytes.count - 18), _) = $0 { return true }
                return false
            }
            fileSystem.overwrite(a[0], with: bytes + [0])
            expectBackupError({ _ = try BackupReader.open(a, fileSystem: fileSystem).verify() }) {
                if case .corrupt(file: a[0].string, part: 0, region: .trailer, offset: UInt64(bytes.count), _) = $0 { return true }
                return false
            }
        }

        /// Where each block of an uncompressed part starts, found by walking the format.
        static func blockOffsets(_ bytes: [UInt8]) throws -> [Int] {
            func uint32(at offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }
            var offset = 34 + uint32(at: 30) + 4
            var offsets: [Int] = []
            while bytes[offset] == 1 {
                offsets.append(offset)
                offset += 13 + uint32(at: offset + 5)
            }
            try #require(offset == bytes.count - 18 && offsets.count >= 3)
            return offsets
        }

        /// Blocks whose CRCs hold but whose entries break the format's rules: keys out of order
        /// within a block or across blocks, or an object written after the backup's position. Each
        /// is refused naming the file, the block and the entry.
        @Test(arguments: [
            ([["b", "a"]], 0, "entry 1: key 'a'", "is not after the previous key"),
            ([["a", "b"], ["b", "c"]], 1, "entry 0: key 'b'", "is not after the previous key"),
            ([["a", "late"]], 0, "entry 1 has seqno 6000", "after the backup's position 5000"),
        ])
        func entriesBreakingTheRulesAreRefused(blocks names: [[String]], block: Int, entry: String, rule: String) throws {
            let described = description(seqno: 5_000)
            let blocks = names.map { keys in
                keys.map { name in
                    let key = Array(name.utf8)
                    return (key: key, object: StoredObject(key: key, value: [1, 2, 3], seqno: Seqno(name == "late" ? 6_000 : 10)))
                }
            }
            let fileSystem = backupFileSystem()
            let (bytes, offsets) = SpecBackupEncoder(description: described).encode(part: 0, blocks: blocks, final: true)
            fileSystem.overwrite(path("crafted"), with: bytes)
            let error = expectBackupError({ _ = try BackupReader.open([path("crafted")], fileSystem: fileSystem).verify() }) {
                if case .corrupt(file: path("crafted").string, part: 0, region: .block(block), offset: UInt64(offsets[block]), _) = $0 {
                    return true
                }
                return false
            }
            let message = error?.description ?? ""
            #expect(message.contains(entry) && message.contains(rule), "\(message)")
        }
    }
}
