import CHTTPParser
import Transport

/// Incremental HTTP/1.1 parsing on http-parser, one message at a time: requests for the server,
/// responses for the client.
///
/// The parser pauses itself at the end of each message, so bytes after it stay in the caller's input:
/// the server answers pipelined requests in order, and the client sees bytes nobody asked for.
final class HTTPMessageParser {
    enum Kind { case request, response }

    enum Failure: Equatable {
        case malformed(detail: String)
        case headersTooLarge
        case bodyTooLarge
        /// `reserveBody` refused room for the body.
        case overloaded
    }

    /// A complete message. `method` and `target` are set for requests, `status` for responses.
    struct Message {
        var method = ""
        var target = ""
        var status = 0
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        /// Whether the connection may carry another message after this one.
        var keepAlive = false
    }

    enum Outcome {
        case needMoreInput
        case message(Message)
        case failed(Failure)
    }

    private let parser: UnsafeMutablePointer<http_parser> = .allocate(capacity: 1)
    private let maxHeaderBytes: Int
    private let maxBodyBytes: Int
    /// True from a message's first byte until it is complete.
    private(set) var isMidMessage = false
    /// Body bytes of the message in progress received so far.
    var bodyBytesReceived: Int { builder.body.count }
    /// Responses only: the next response answers a HEAD request, so it has headers but no body.
    var nextResponseHasNoBody = false
    /// Asked for room before body bytes are buffered: with the declared length when the headers end,
    /// else with each chunk as it arrives; false refuses the message (`.overloaded`).
    var reserveBody: (Int) -> Bool = { _ in true }
    /// The current message's body was reserved whole at its headers.
    private var bodyReserved = false
    private var builder = MessageBuilder()
    private var completed: Message?
    private var failure: Failure?

    init(_ kind: Kind, maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        http_parser_init(parser, kind == .request ? HTTP_REQUEST : HTTP_RESPONSE)
        // Unretained: the parser only calls back during `parse`, while `self` is in use.
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
    }

    /// Consumes bytes from the front of `input` up to the end of one message, or all of them.
    func parse(_ input: inout [UInt8]) -> Outcome {
        guard !input.isEmpty else { return .needMoreInput }
        let consumed = input.withUnsafeBytes { bytes in
            http_parser_execute(parser, parserSettings, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        input.removeFirst(consumed)
        return outcome()
    }

    /// The peer closed: completes a response whose body runs to the end of the stream; a message cut
    /// short is malformed (`HPE_INVALID_EOF_STATE`).
    func parseEndOfInput() -> Outcome {
        _ = http_parser_execute(parser, parserSettings, nil, 0)
        return outcome()
    }

    private func outcome() -> Outcome {
        let status = http_errno(rawValue: parser.pointee.http_errno)
        if status == HPE_PAUSED { http_parser_pause(parser, 0) }
        if let failure { return .failed(failure) }
        if let message = completed {
            completed = nil
            return .message(message)
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

    fileprivate static func from(_ parser: UnsafeMutablePointer<http_parser>?) -> HTTPMessageParser {
        Unmanaged<HTTPMessageParser>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
    }

    fileprivate func messageBegan() -> Int32 {
        isMidMessage = true
        bodyReserved = false
        builder = MessageBuilder()
        return 0
    }

    fileprivate func received(_ part: MessageBuilder.Part, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        builder.append(part, bytes)
        if part == .body {
            if builder.body.count > maxBodyBytes { return fail(.bodyTooLarge) }
            if !bodyReserved && !reserveBody(bytes.count) { return fail(.overloaded) }
        } else if builder.headerBytes > maxHeaderBytes {
            return fail(.headersTooLarge)
        }
        return 0
    }

    /// Returns 1 for a response to HEAD: http-parser then expects no body.
    fileprivate func headersCompleted() -> Int32 {
        builder.commitHeader()
        let declaredLength = parser.pointee.content_length
        // content_length is ULLONG_MAX when absent (chunked bodies are checked as they arrive).
        if declaredLength != UInt64.max && declaredLength > UInt64(maxBodyBytes) { return fail(.bodyTooLarge) }
        if declaredLength != UInt64.max && declaredLength > 0 {
            guard reserveBody(Int(declaredLength)) else { return fail(.overloaded) }
            bodyReserved = true
            builder.body.reserveCapacity(Int(declaredLength))
        }
        return parser.pointee.type == HTTP_RESPONSE.rawValue && nextResponseHasNoBody ? 1 : 0
    }

    fileprivate func messageCompleted() -> Int32 {
        var message = Message(headers: builder.headers, body: builder.body, keepAlive: http_should_keep_alive(parser) != 0)
        if parser.pointee.type == HTTP_REQUEST.rawValue {
            message.method = String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method))))
            message.target = String(decoding: builder.url, as: UTF8.self)
        } else {
            message.status = Int(parser.pointee.status_code)
        }
        completed = message
        builder = MessageBuilder()
        isMidMessage = false
        http_parser_pause(parser, 1)
        return 0
    }

    private func fail(_ reason: Failure) -> Int32 {
        failure = reason
        return -1
    }
}

extension HTTPMessageParser.Message {
    /// The request this message is, split at `?` (neither part percent-decoded).
    func request(peerAddress: SocketAddress) -> HTTPRequest {
        var path = target
        var query: String?
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<mark])
            query = String(target[target.utf8.index(after: mark)...])
        }
        return HTTPRequest(method: method, path: path, query: query, headers: headers, body: body, peerAddress: peerAddress)
    }

    var response: HTTPResponse { HTTPResponse(status: status, headers: headers, body: body) }
}

/// The pieces of one message as http-parser hands them over (each possibly split across reads).
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
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        inValue = false
    }
}

/// One settings table serves every parser; it is never mutated after initialization.
nonisolated(unsafe) private let parserSettings: UnsafeMutablePointer<http_parser_settings> = {
    let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
    settings.initialize(to: http_parser_settings())
    http_parser_settings_init(settings)
    settings.pointee.on_message_begin = { HTTPMessageParser.from($0).messageBegan() }
    settings.pointee.on_url = { HTTPMessageParser.from($0).received(.url, UnsafeRawBufferPointer(start: $1, count: $2)) }
    settings.pointee.on_header_field = {
        HTTPMessageParser.from($0).received(.headerField, UnsafeRawBufferPointer(start: $1, count: $2))
    }
    settings.pointee.on_header_value = {
        HTTPMessageParser.from($0).received(.headerValue, UnsafeRawBufferPointer(start: $1, count: $2))
    }
    settings.pointee.on_headers_complete = { HTTPMessageParser.from($0).headersCompleted() }
    settings.pointee.on_body = { HTTPMessageParser.from($0).received(.body, UnsafeRawBufferPointer(start: $1, count: $2)) }
    settings.pointee.on_message_complete = { HTTPMessageParser.from($0).messageCompleted() }
    return settings
}()
