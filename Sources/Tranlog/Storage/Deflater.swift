internal import CZlib

/// Whole-buffer deflate with one reusable stream: gzip for archived tranlogs (windowBits 31) and raw
/// deflate for extent blocks (windowBits -15, no header: each block carries its own CRC and length).
/// The `z_stream` is heap-allocated: zlib keeps a pointer back to it and refuses a stream that moved.
package final class Deflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    package init(level: Int32, windowBits: Int32) {
        stream.initialize(to: z_stream())
        let status = understudy_deflateInit2(stream, level, windowBits)
        precondition(status == Z_OK, "deflateInit2 failed with \(status): out of memory")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` as one complete stream.
    package func compress(_ input: [UInt8]) -> [UInt8] {
        precondition(input.count < Int(UInt32.max), "one deflate call takes less than 4 GiB")
        precondition(deflateReset(stream) == Z_OK)
        // deflateBound covers raw and zlib streams; gzip's header and trailer need 18 bytes more.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(input.count))) + 32)
        let (result, produced) = finishZlibCall(stream, from: input[...], into: &output) { deflate($0, Z_FINISH) }
        precondition(result == Z_STREAM_END, "deflate with a deflateBound-sized buffer returned \(result)")
        output.removeSubrange(produced...)
        return output
    }
}

/// Points `stream` at all of `input` and `output` and makes one zlib call (`deflate` or `inflate`
/// with Z_FINISH) over them; returns its status and how many bytes of `output` it filled.
func finishZlibCall(
    _ stream: UnsafeMutablePointer<z_stream>, from input: ArraySlice<UInt8>, into output: inout [UInt8],
    _ call: (UnsafeMutablePointer<z_stream>) -> Int32
) -> (status: Int32, produced: Int) {
    input.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            stream.pointee.next_out = target.baseAddress
            stream.pointee.avail_out = UInt32(target.count)
            let status = call(stream)
            return (status, target.count - Int(stream.pointee.avail_out))
        }
    }
}
