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

    /// Parses `http://HOST:PORT` or `https://HOST:PORT` (a trailing `/` is fine; `http://` and the port
    /// may be left out, the port then being `defaultPort`), HOST numeric IPv4, `[IPv6]`, or
    /// `localhost`; `secure` says it was `https://`. One rule for the URL of a node and of an etcd
    /// endpoint.
    public static func parsing(url: String, defaultPort: Int) -> Result<(address: SocketAddress, secure: Bool), URLProblem> {
        var rest = Substring(url)
        let secure = rest.hasPrefix("https://")
        if secure { rest = rest.dropFirst("https://".count) }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let address = SocketAddress(parsing: rest, defaultPort: defaultPort), address.port != 0 else {
            return .failure(URLProblem(
                reason: "expected http://HOST:PORT with a numeric IPv4 or [IPv6] HOST (or localhost) and a port from 1 to 65535"))
        }
        return .success((address, secure))
    }

    /// Why a URL is not one `parsing(url:defaultPort:)` takes.
    public struct URLProblem: Error, Sendable {
        public var reason: String
    }

    private static func isNumeric(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}
