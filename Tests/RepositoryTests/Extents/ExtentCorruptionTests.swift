import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension ExtentTests {
    /// Every kind of damage is refused with its own error, naming the file, region and offset.
    @Suite struct CorruptionTests {
        enum Damage: CaseIterable, Sendable {
            case flippedBlockByte, flippedBlockHeaderByte, flippedHeaderByte, flippedIndexByte, flippedFooterByte
            case truncatedByOneByte, truncatedMidBlock, truncatedInsideHeader, badMagic, otherRepository, misnamed
            case unsortedKeys, duplicateKeyAcrossBlocks, keyOverLimit
        }

        static let generation: UInt64 = 5
        static let entries = (0..<3_000).map { index in
            entry("k\(100_000 + index)", String(repeating: "\(index * 7919 % 1000)", count: 20), seqno: UInt64(index + 1))
        }

        /// The damaged file and what reading it must report.
        static func damaged(_ damage: Damage) throws -> (fileSystem: SimulatedFileSystem, path: FilePath, expected: (ExtentError) -> Bool) {
            let fileSystem = extentsFileSystem()
            _ = try writeRun(entries, generation: generation, fileSystem: fileSystem)
            let path = runPath(generation)
            let run = try openRun(generation, fileSystem: fileSystem)
            var bytes = fileSystem.contents(of: path)!
            let footer = bytes.count - ExtentFormat.footerBytes
            func corrupt(_ region: ExtentRegion, _ offset: Int) -> (ExtentError) -> Bool {
                { if case .corrupt(path.string, region, offset, _) = $0 { return true } else { return false } }
            }
            let expected: (ExtentError) -> Bool
            switch damage {
            case .flippedBlockByte:
                bytes[run.blocks[2].offset + 40] ^= 0x20
                expected = corrupt(.block(2), run.blocks[2].offset)
            case .flippedBlockHeaderByte:
                bytes[run.blocks[1].offset + 5] ^= 0x01
                expected = corrupt(.block(1), run.blocks[1].offset)
            case .flippedHeaderByte:
                bytes[44] ^= 0x01
                expected = corrupt(.header, 0)
            case .flippedIndexByte:
                bytes[footer - 3] ^= 0x01
                expected = corrupt(.index, run.blocks.last!.offset + run.blocks.last!.length)
            case .flippedFooterByte:
                bytes[footer + 25] ^= 0x01
                expected = corrupt(.footer, footer)
            case .truncatedByOneByte, .truncatedMidBlock, .truncatedInsideHeader:
                let kept = damage == .truncatedByOneByte ? bytes.count - 1 : damage == .truncatedMidBlock ? bytes.count / 2 : 20
                bytes.removeSubrange(kept...)
                expected = { if case .truncated(path.string, kept) = $0 { return true } else { return false } }
            case .badMagic:
                bytes[3] ^= 0x01
                expected = { $0 == .notAnExtentRun(file: path.string) }
            case .otherRepository:
                bytes = SpecRunEncoder(repositoryID: otherRepositoryID, generation: generation).encode(blocks: [entries])
                expected = { $0 == .otherRepository(file: path.string, found: otherRepositoryID, expected: repositoryID) }
            case .misnamed:
                bytes = SpecRunEncoder(generation: 9).encode(blocks: [entries])
                expected = { $0 == .misnamedRun(file: path.string, headerGeneration: 9) }
            case .unsortedKeys:
                bytes = SpecRunEncoder(generation: generation).encode(blocks: [[entries[0], entries[2], entries[1]]])
                expected = corrupt(.block(0), 64)
            case .duplicateKeyAcrossBlocks:
                bytes = SpecRunEncoder(generation: generation).encode(blocks: [Array(entries[0...2]), Array(entries[2...4])])
                expected = { if case .corrupt(_, .block(1), _, _) = $0 { return true } else { return false } }
            case .keyOverLimit:
                let long = ExtentEntry(key: Array("k2".utf8) + [UInt8](repeating: 0x41, count: 1023), value: [], seqno: Seqno(1))
                bytes = SpecRunEncoder(generation: generation).encode(blocks: [[entries[0], long]])
                expected = corrupt(.block(0), 64)
            }
            fileSystem.overwrite(path, with: bytes)
            return (fileSystem, path, expected)
        }

        @Test(arguments: Damage.allCases)
        func damageIsRefusedPrecisely(_ damage: Damage) throws {
            let (fileSystem, path, expected) = try Self.damaged(damage)
            let error = expectExtentError({
                let run = try ExtentRun.open(path, repositoryID: repositoryID, fileSystem: fileSystem)
                _ = try run.entries()
            }, expected)
            let message = error?.description ?? ""
            #expect(message.contains(path.string), "\(message)")
            #expect(message.contains("restore from backup and replay tranlogs"), "\(message)")
        }

        @Test func aDamagedBlockFailsTheAuditNamingItsNumberAndOffset() throws {
            let (fileSystem, path, _) = try Self.damaged(.flippedBlockByte)
            let run = try ExtentRun.open(path, repositoryID: repositoryID, fileSystem: fileSystem)
            let error = expectExtentError({ try run.verify() }) { if case .corrupt(_, .block(2), _, _) = $0 { true } else { false } }
            #expect(error?.description.contains("block 2 at byte offset \(run.blocks[2].offset)") == true, "\(String(describing: error))")
        }
    }
}
