/// The HTTP parser on its own, for the fuzzer and its regression tests (`FuzzTargets`): bytes in,
/// complete messages counted, the first failure named, exactly as a server (requests) or a client
/// (responses) would meet them, with the server's header limit.
package final class HTTPParsingProbe {
    package enum Result: Equatable {
        case messages(Int)
        case failed(messages: Int, failure: String)
    }

    private let parser: HTTPMessageParser
    private var pending: [UInt8] = []

    package init(parsingResponses: Bool) {
        let limits = HTTPServerConfiguration()
        parser = HTTPMessageParser(parsingResponses ? .response : .request, maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: 1 << 20)
    }

    /// Parses what `bytes` complete, message after message, until more input is needed or one fails.
    package func feed(_ bytes: [UInt8]) -> Result {
        pending += bytes
        var messages = 0
        while !pending.isEmpty {
            let before = pending.count
            switch parser.parse(&pending) {
            case .message: messages += 1
            case .failed(let failure): return .failed(messages: messages, failure: "\(failure)")
            case .needMoreInput: guard pending.count < before else { return .messages(messages) }
            }
        }
        return .messages(messages)
    }
}
