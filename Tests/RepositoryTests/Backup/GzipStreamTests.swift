import Foundation
import Testing
import Tranlog
import UnderstudyTesting

extension BackupTests {
    /// The streaming gzip coder agrees with the whole-buffer one and refuses damaged input.
    @Suite struct GzipStreamTests {
        /// Random pieces, half incompressible and half repetitive, some empty.
        static func pieces(using random: inout SeededRandom) -> [[UInt8]] {
            (0..<40).map { index in
                let count = Int.random(in: 0...20_000, using: &random)
                return index % 2 == 0 ? randomBytes(count, using: &random) : Array(repeating: UInt8(index), count: count)
            }
        }

        static func compressed(_ pieces: [[UInt8]]) -> (bytes: [UInt8], outputs: [[UInt8]]) {
            let compressor = GzipStreamCompressor(level: 1)
            var outputs = pieces.map { compressor.compress($0[...], final: false) }
            outputs.append(compressor.compress([], final: true))
            return (Array(outputs.joined()), outputs)
        }

        static func readAll(_ input: [UInt8], maxCount: Int) -> Result<[UInt8], GzipError> {
            let decompressor = GzipStreamDecompressor(input)
            var output: [UInt8] = []
            while true {
                switch decompressor.read(maxCount: maxCount) {
                case .failure(let error): return .failure(error)
                case .success(let bytes) where bytes.isEmpty: return .success(output)
                case .success(let bytes): output += bytes
                }
            }
        }

        @Test func roundTripInPieces() throws {
            var random = seeded("roundTripInPieces")
            let pieces = Self.pieces(using: &random)
            let (bytes, outputs) = Self.compressed(pieces)
            // Every flush hands out bytes, so a writer's count of them is exact.
            #expect(outputs.allSatisfy { !$0.isEmpty })
            let original = Array(pieces.joined())
            #expect(Gzip.decompress(bytes) == .success(original))
            for maxCount in [1, 777, 1 << 20] { #expect(Self.readAll(bytes, maxCount: maxCount) == .success(original)) }
        }

        @Test func readsWholeBufferGzip() {
            var random = seeded("readsWholeBufferGzip")
            let original = Array(Self.pieces(using: &random).joined())
            #expect(Self.readAll(Gzip.compress(original), maxCount: 4096) == .success(original))
            #expect(Self.readAll(Gzip.compress([]), maxCount: 10) == .success([]))
        }

        @Test func refusesDamage() {
            var random = seeded("refusesDamage")
            let pieces = Self.pieces(using: &random)
            let (bytes, _) = Self.compressed(pieces)
            guard case .failure(let truncated) = Self.readAll(Array(bytes.dropLast(3)), maxCount: 4096) else {
                Issue.record("a truncated stream was accepted")
                return
            }
            #expect(truncated.description.contains("ends early"))
            guard case .failure(let trailing) = Self.readAll(bytes + [0], maxCount: 4096) else {
                Issue.record("bytes after the stream were accepted")
                return
            }
            #expect(trailing.description.contains("1 bytes follow"))
            // The gzip trailer's CRC-32 of the data: a flip there is always refused.
            var badCRC = bytes
            badCRC[bytes.count - 6] ^= 0x40
            #expect((try? Self.readAll(badCRC, maxCount: 4096).get()) == nil)
            // A flip mid-stream may land on deflate's padding bits (before a sync flush's empty stored
            // block), which inflate ignores by design; what must never happen is different data.
            var flipped = bytes
            flipped[bytes.count / 2] ^= 0x40
            if case .success(let data) = Self.readAll(flipped, maxCount: 4096) {
                #expect(data == Array(pieces.joined()), "damage must be refused or change nothing")
            }
        }
    }
}
