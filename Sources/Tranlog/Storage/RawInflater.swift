internal import CZlib

/// Inflates raw deflate data (no header: windowBits -15) into a buffer of exactly a declared size,
/// with one reusable stream; the inverse of a `Deflater(windowBits: -15)`. Extent blocks use it:
/// each carries its own CRC-32 and uncompressed length. zlib stays inside this module.
package final class RawInflater {
    /// Why the data did not inflate to exactly the declared size, in zlib's words where it has them.
    package struct Failure: Error, Sendable {
        package let reason: String
    }

    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    package init() {
        stream.initialize(to: z_stream())
        let status = understudy_inflateInit2(stream, -15)
        precondition(status == Z_OK, "inflateInit2 failed with \(status): out of memory")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    package func inflate(_ input: ArraySlice<UInt8>, byteCount: Int) -> Result<[UInt8], Failure> {
        precondition(inflateReset(stream) == Z_OK)
        var output = [UInt8](repeating: 0, count: byteCount)
        let (status, _) = finishZlibCall(stream, from: input, into: &output) { CZlib.inflate($0, Z_FINISH) }
        guard status == Z_STREAM_END else {
            let reason = status == Z_BUF_ERROR || status == Z_OK
                ? "it inflates to more than the declared \(byteCount) bytes, or ends early"
                : stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            return .failure(Failure(reason: reason))
        }
        guard stream.pointee.avail_out == 0, stream.pointee.avail_in == 0 else {
            return .failure(Failure(reason:
                "it inflates to \(byteCount - Int(stream.pointee.avail_out)) bytes, not the declared \(byteCount), "
                    + "or has \(stream.pointee.avail_in) bytes after its end"))
        }
        return .success(output)
    }
}
