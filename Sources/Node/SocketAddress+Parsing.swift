import Transport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SocketAddress {
    /// Parses `HOST:PORT`, `[IPv6]:PORT`, or HOST alone when `defaultPort` is given. HOST must be
    /// numeric (the loop never resolves names); `localhost` is taken as 127.0.0.1. Nil when malformed.
    public init?(parsing text: Substring, defaultPort: Int? = nil) {
        var host = text
        var port: Substring?
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            port = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let portNumber = port.map({ Int($0) }) ?? defaultPort, (0...65535).contains(portNumber) else { return nil }
        let numericHost = host == "localhost" ? "127.0.0.1" : String(host)
        guard Self.isNumeric(numericHost) else { return nil }
        self.init(host: numericHost, port: portNumber)
    }

    private static func isNumeric(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}
