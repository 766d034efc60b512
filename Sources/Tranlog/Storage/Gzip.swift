internal import CZlib

/// Whole-buffer gzip, for archived tranlogs (`tranlogN.dbf.gz`). The `z_stream` is heap-allocated:
/// zlib keeps a pointer back to it and refuses a stream that moved.
public enum Gzip {
    /// Compresses into the gzip format (windowBits 31).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        Deflater(level: level, windowBits: 31).compress(input)
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

/// Streaming gzip (windowBits 31) for a file written piece by piece (full backups), so the file is
/// never held in memory whole. Every call flushes (`Z_SYNC_FLUSH`, a few bytes each), so the bytes
/// returned so far are all the compressed bytes of the input so far: a caller can count what it has
/// written exactly. The result is one ordinary gzip member: `zcat` and `gzip -t` read it.
public final class GzipStreamCompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var finished = false
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)

    public init(level: Int32 = 6) {
        stream.initialize(to: z_stream())
        let status = understudy_deflateInit2(stream, level, 31)
        precondition(status == Z_OK, "deflateInit2 failed with \(status): out of memory")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The compressed bytes for `input`, flushed to a byte boundary. With `final`, also ends the
    /// gzip member (its CRC-32 and length); nothing may be compressed after that.
    public func compress(_ input: ArraySlice<UInt8>, final: Bool) -> [UInt8] {
        precondition(!finished, "the gzip stream was already finished")
        precondition(input.count <= UInt32.max, "compress at most 4 GiB per call")
        finished = final
        let flush = final ? Z_FINISH : Z_SYNC_FLUSH
        var output: [UInt8] = []
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            // zlib's rule: call again while it filled all the output space (for a flush), or until the
            // stream ends (for Z_FINISH).
            var done = false
            while !done {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    return (deflate(stream, flush), target.count - Int(stream.pointee.avail_out))
                }
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate returned \(status)")
                output.append(contentsOf: chunk[0..<produced])
                done = final ? status == Z_STREAM_END : stream.pointee.avail_out > 0
            }
        }
        return output
    }
}

/// Streaming gunzip (gzip or zlib, windowBits 47) over a whole compressed input, as the file systems
/// read whole files: it hands out the decompressed bytes a piece at a time, so a large file's
/// decompressed content is never in memory at once.
public final class GzipStreamDecompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let input: [UInt8]
    private var ended = false

    public init(_ input: [UInt8]) {
        self.input = input
        stream.initialize(to: z_stream())
        let status = understudy_inflateInit2(stream, 47)
        precondition(status == Z_OK, "inflateInit2 failed with \(status): out of memory")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The next decompressed bytes, at most `maxCount`; empty only once the stream has ended. Fails
    /// with zlib's reason on damaged data, when the input ends before the stream does, and when
    /// bytes follow the stream's end.
    public func read(maxCount: Int) -> Result<[UInt8], GzipError> {
        precondition(maxCount > 0 && maxCount <= UInt32.max, "read 1 byte to 4 GiB at a time")
        var output = [UInt8](repeating: 0, count: maxCount)
        var produced = 0
        while produced == 0 && !ended {
            switch inflateStep(into: &output) {
            case .success(let count): produced = count
            case .failure(let error): return .failure(error)
            }
        }
        output.removeSubrange(produced...)
        return .success(output)
    }

    /// One `inflate` call, resuming from where the input was left (zlib keeps no pointer into the
    /// input between calls, so it is re-pinned each time).
    private func inflateStep(into output: inout [UInt8]) -> Result<Int, GzipError> {
        let consumed = Int(stream.pointee.total_in)
        let (status, produced) = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress.map { $0 + consumed })
                stream.pointee.avail_in = UInt32(min(source.count - consumed, Int(UInt32.max)))
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = UInt32(target.count)
                return (inflate(stream, Z_NO_FLUSH), target.count - Int(stream.pointee.avail_out))
            }
        }
        switch status {
        case Z_OK:
            return .success(produced)
        case Z_STREAM_END:
            ended = true
            let trailing = input.count - Int(stream.pointee.total_in)
            return trailing == 0 ? .success(produced) : .failure(GzipError("\(trailing) bytes follow the end of the gzip stream"))
        case Z_BUF_ERROR where Int(stream.pointee.total_in) == input.count:
            return .failure(GzipError("the compressed data ends early (truncated file)"))
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            return .failure(GzipError(message))
        }
    }
}
