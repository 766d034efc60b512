internal import CZlib

/// Whole-buffer gzip, for archived tranlogs (`tranlogN.dbf.gz`). The `z_stream` is heap-allocated:
/// zlib keeps a pointer back to it and refuses a stream that moved.
public enum Gzip {
    /// Compresses into the gzip format (windowBits 31).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        let status = understudy_deflateInit2(stream, level, 31)
        precondition(status == Z_OK, "deflateInit2 failed with \(status): out of memory")
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(input.count))) + 32)
        let produced = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = UInt32(source.count)
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = UInt32(target.count)
                let result = deflate(stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate with a deflateBound-sized buffer returned \(result)")
                return target.count - Int(stream.pointee.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses gzip (or zlib) data. Fails with zlib's reason on damage or a truncated stream.
    public static func decompress(_ input: [UInt8]) -> Result<[UInt8], GzipError> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard understudy_inflateInit2(stream, 47) == Z_OK else { return .failure(GzipError("inflateInit2 failed")) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        return input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    let status = inflate(stream, Z_NO_FLUSH)
                    return (status, target.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    return .success(output)
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                    return .failure(GzipError("the compressed data ends early (truncated file)"))
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .failure(GzipError(message))
                }
            }
        }
    }
}

public struct GzipError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
