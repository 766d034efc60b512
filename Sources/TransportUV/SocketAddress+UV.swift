import CLibUV
import Transport

extension SocketAddress {
    /// Reads an IPv4 or IPv6 `sockaddr`; nil for other families.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        var name = [CChar](repeating: 0, count: 64)
        let port: UInt16
        switch Int32(storage.ss_family) {
        case AF_INET:
            let ipv4 = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } }
            var copy = ipv4
            guard uv_ip4_name(&copy, &name, name.count) == 0 else { return nil }
            port = ipv4.sin_port
        case AF_INET6:
            let ipv6 = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee } }
            var copy = ipv6
            guard uv_ip6_name(&copy, &name, name.count) == 0 else { return nil }
            port = ipv6.sin6_port
        default:
            return nil
        }
        self.init(host: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                  port: Int(UInt16(bigEndian: port)))
    }
}

extension sockaddr_storage {
    /// Parses a numeric IPv4 or IPv6 host; names are not resolved (the loop thread must never block on DNS).
    init(_ address: SocketAddress) throws(TransportError) {
        self.init()
        guard (0...65535).contains(address.port) else {
            throw TransportError(operation: .resolve, code: "EINVAL", message: "port out of range", address: address)
        }
        let port = Int32(address.port)
        let status = withUnsafeMutablePointer(to: &self) { storage in
            let ipv4 = storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_addr(address.host, port, $0) }
            if ipv4 == 0 { return ipv4 }
            return storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_addr(address.host, port, $0) }
        }
        if status != 0 {
            throw TransportError(operation: .resolve, code: "EINVAL",
                                 message: "not a numeric IPv4 or IPv6 address", address: address)
        }
    }
}
