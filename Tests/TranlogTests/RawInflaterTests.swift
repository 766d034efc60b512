import Testing

@testable import Tranlog

/// Extent blocks inflate through `RawInflater` (zlib stays in this module): exactly the declared
/// size or a reason, never a shorter or padded buffer.
@Suite struct RawInflaterTests {
    private let data = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 % 251 ^ $0 / 97) }

    private func compressed() -> [UInt8] { Deflater(level: 1, windowBits: -15).compress(data) }

    @Test func inflatesWhatTheRawDeflaterMade() throws {
        let inflater = RawInflater()
        // Twice on one stream: each call resets it.
        for _ in 0..<2 {
            #expect(try inflater.inflate(compressed()[...], byteCount: data.count).get() == data)
        }
    }

    @Test(arguments: [-1, 1])
    func aDeclaredSizeThatDiffersIsRefused(by difference: Int) {
        guard case .failure(let failure) = RawInflater().inflate(compressed()[...], byteCount: data.count + difference) else {
            Issue.record("inflated to a size other than the data's")
            return
        }
        #expect(failure.reason.contains("\(data.count + difference)"))
    }

    @Test func bytesAfterTheEndAreRefused() {
        let padded = compressed() + [0, 0, 0]
        guard case .failure(let failure) = RawInflater().inflate(padded[...], byteCount: data.count) else {
            Issue.record("inflated data with bytes after its end")
            return
        }
        #expect(failure.reason.contains("3 bytes after its end"))
    }

    @Test func aDamagedStreamIsRefusedInZlibsWords() {
        var damaged = compressed()
        damaged[0] = 0xFF  // block type 3, which deflate reserves
        guard case .failure(let failure) = RawInflater().inflate(damaged[...], byteCount: data.count) else {
            Issue.record("inflated a damaged stream")
            return
        }
        #expect(failure.reason.contains("invalid block type"))
    }
}
