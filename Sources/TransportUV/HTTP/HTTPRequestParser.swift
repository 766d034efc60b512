import CHTTPParser
import Transport

/// Incremental request parsing on http-parser, one request at a time.
///
/// The parser pauses itself at the end of each message, so pipelined bytes after it stay in the caller's
/// input until the caller has answered the current request: responses then go out in request order.
final class HTTPRequestParser {
    enum Failure: Equatable {
        case malformed(detail: String)
        case headersTooLarge
        case bodyTooLarge
    }

    enum Outcome {
        case needMoreInput
        case request(HTTPRequest, keepAlive: Bool)
        case failed(Failure)
    }

    private let parser: UnsafeMutablePointer<http_parser> = .allocate(capacity: 1)
    private let maxHeaderBytes: Int
    private let maxBodyBytes: Int
    private let peerAddress: SocketAddress
    /// True from a request's first byte until it is complete.
    private(set) var isMidRequest = false
    private var message = MessageBuilder()
    private var completed: (HTTPRequest, keepAlive: Bool)?
    private var failure: Failure?

    init(maxHeaderBytes: Int, maxBodyBytes: Int, peerAddress: SocketAddress) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.peerAddress = peerAddress
        http_parser_init(parser, HTTP_REQUEST)
        // Unretained: the parser only calls back during `parse`, while `self` is in use.
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
    }

    /// Consumes bytes from the front of `input` up to the end of one request, or all of them.
    func parse(_ input: inout [UInt8]) -> Outcome {
        guard !input.isEmpty else { return .needMoreInput }
        let consumed = input.withUnsafeBytes { bytes in
            http_parser_execute(parser, parserSettings, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        input.removeFirst(consumed)
        let status = http_errno(rawValue: parser.pointee.http_errno)
        if status == HPE_PAUSED { http_parser_pause(parser, 0) }
        if let failure { return .failed(failure) }
        if let (request, keepAlive) = completed {
            completed = nil
            return .request(request, keepAlive: keepAlive)
        }
        if status == HPE_HEADER_OVERFLOW { return .failed(.headersTooLarge) }
        if status != HPE_OK {
            let detail = "\(String(cString: http_errno_name(status))): \(String(cString: http_errno_description(status)))"
            return .failed(.malformed(detail: detail))
        }
        if parser.pointee.upgrade != 0 { return .failed(.malformed(detail: "protocol upgrade is not supported")) }
        return .needMoreInput
    }

    // MARK: - http-parser callbacks (0 continues, non-zero stops with an error)

    fileprivate static func from(_ parser: UnsafeMutablePointer<http_parser>?) -> HTTPRequestParser {
        Unmanaged<HTTPRequestParser>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
    }

    fileprivate func messageBegan() -> Int32 {
        isMidRequest = true
        message = MessageBuilder()
        return 0
    }

    fileprivate func received(_ part: MessageBuilder.Part, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        message.append(part, bytes)
        if part == .body {
            if message.body.count > maxBodyBytes { return fail(.bodyTooLarge) }
        } else if message.headerBytes > maxHeaderBytes {
            return fail(.headersTooLarge)
        }
        return 0
    }

    fileprivate func headersCompleted() -> Int32 {
        message.commitHeader()
        let declaredLength = parser.pointee.content_length
        // content_length is ULLONG_MAX when absent (chunked bodies are checked as they arrive).
        if declaredLength != UInt64.max && declaredLength > UInt64(maxBodyBytes) { return fail(.bodyTooLarge) }
        return 0
    }

    fileprivate func messageCompleted() -> Int32 {
        let method = String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method))))
        completed = (message.request(method: method, peerAddress: peerAddress),
                     keepAlive: http_should_keep_alive(parser) != 0)
        message = MessageBuilder()
        isMidRequest = false
        http_parser_pause(parser, 1)
        return 0
    }

    private func fail(_ reason: Failure) -> Int32 {
        failure = reason
        return -1
    }
}

/// The pieces of one request as http-parser hands them over (each possibly split across reads).
private struct MessageBuilder {
    enum Part { case url, headerField, headerValue, body }

    var url: [UInt8] = []
    var headers = HTTPHeaders()
    var field: [UInt8] = []
    var value: [UInt8] = []
    var inValue = false
    var body: [UInt8] = []
    var headerBytes = 0

    mutating func append(_ part: Part, _ bytes: UnsafeRawBufferPointer) {
        switch part {
        case .url: url += bytes
        case .headerField:
            if inValue { commitHeader() }
            field += bytes
        case .headerValue:
            inValue = true
            value += bytes
        case .body: body += bytes
        }
        if part != .body { headerBytes += bytes.count }
    }

    mutating func commitHeader() {
        if !field.isEmpty {
            headers.add(name: String(decoding: field, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
        field = []
        value = []
        inValue = false
    }

    func request(method: String, peerAddress: SocketAddress) -> HTTPRequest {
        let target = String(decoding: url, as: UTF8.self)
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return HTTPRequest(method: method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : nil,
                           headers: headers, body: body, peerAddress: peerAddress)
    }
}

/// One settings table serves every parser; it is never mutated after initialization.
nonisolated(unsafe) private let parserSettings: UnsafeMutablePointer<http_parser_settings> = {
    let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
    settings.initialize(to: http_parser_settings())
    http_parser_settings_init(settings)
    settings.pointee.on_message_begin = { HTTPRequestParser.from($0).messageBegan() }
    settings.pointee.on_url = { HTTPRequestParser.from($0).received(.url, UnsafeRawBufferPointer(start: $1, count: $2)) }
    settings.pointee.on_header_field = {
        HTTPRequestParser.from($0).received(.headerField, UnsafeRawBufferPointer(start: $1, count: $2))
    }
    settings.pointee.on_header_value = {
        HTTPRequestParser.from($0).received(.headerValue, UnsafeRawBufferPointer(start: $1, count: $2))
    }
    settings.pointee.on_headers_complete = { HTTPRequestParser.from($0).headersCompleted() }
    settings.pointee.on_body = { HTTPRequestParser.from($0).received(.body, UnsafeRawBufferPointer(start: $1, count: $2)) }
    settings.pointee.on_message_complete = { HTTPRequestParser.from($0).messageCompleted() }
    return settings
}()
