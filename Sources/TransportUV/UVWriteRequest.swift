import CLibUV

/// One `uv_write` carrying several queued buffers (writev), owned until libuv's write callback.
final class UVWriteRequest {
    private unowned let connection: UVConnection
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let request: UnsafeMutablePointer<uv_write_t> = .allocate(capacity: 1)
    private let descriptors: UnsafeMutablePointer<uv_buf_t>
    let byteCount: Int

    init(connection: UVConnection, buffers: [UnsafeMutableRawBufferPointer]) {
        self.connection = connection
        self.buffers = buffers
        byteCount = buffers.reduce(0) { $0 + $1.count }
        descriptors = .allocate(capacity: buffers.count)
        for (index, buffer) in buffers.enumerated() {
            descriptors[index] = uv_buf_init(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(buffer.count))
        }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
        descriptors.deallocate()
        request.deallocate()
    }

    var context: UnsafeMutableRawPointer? { request.pointee.data }

    /// `context` is a retain on `self`, released by the write callback (or by the caller on failure).
    func submit(on stream: UnsafeMutablePointer<uv_stream_t>, context: UnsafeMutableRawPointer) -> Int32 {
        request.pointee.data = context
        return uv_write(request, stream, descriptors, UInt32(buffers.count)) { request, status in
            let eventLoop = UVEventLoop.from(request!.pointee.handle.pointee.loop)
            let write = eventLoop.releaseContext(request!.pointee.data, as: UVWriteRequest.self)
            write.connection.didWrite(byteCount: write.byteCount, status: status)
        }
    }
}
