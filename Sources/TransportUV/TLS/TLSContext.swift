import COpenSSL
import Transport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The OpenSSL contexts (`SSL_CTX`) a loop's connections are made from: one for the connections it
/// accepts, one for those it opens. Built from `TLSConfiguration`'s files, TLS 1.3 at least.
///
/// `reload()` reads the files again and swaps both contexts in: new connections use the new
/// certificate, open ones keep theirs (an `SSL` holds a reference on its context). Files are read on the
/// caller's thread — never a loop thread's — and the lock is held only for the pointer swap.
///
/// `@unchecked Sendable`: the contexts are reached only under the lock; OpenSSL's `SSL_CTX` is itself
/// safe to share once built (it is not modified after the swap).
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration

    private struct Contexts {
        /// Nil without a certificate (a client only).
        var server: OpaquePointer?
        var client: OpaquePointer
    }
    private let contexts: Locked<Contexts>

    /// Reads and checks every file; throws naming the first that cannot be used.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        contexts = Locked(try Self.load(configuration))
    }

    deinit {
        contexts.withLock { Self.free($0) }
    }

    /// Reads the files again; on success new connections use them. On failure nothing changes.
    public func reload() throws(TLSError) {
        let fresh = try Self.load(configuration)
        let old = contexts.withLock { current in
            defer { current = fresh }
            return current
        }
        Self.free(old)
    }

    /// The serving certificate's serial number (hex) and subject, for logs and tests; nil for a client only.
    public var certificateSummary: String? {
        contexts.withLock { contexts -> String? in
            guard let server = contexts.server, let certificate = SSL_CTX_get0_certificate(server) else { return nil }
            return Self.summary(certificate)
        }
    }

    /// A session for one connection; on the connection's loop thread.
    func makeSession(_ role: TLSSession.Role) -> TLSSession? {
        let context = contexts.withLock { contexts -> OpaquePointer? in
            let context = role == .server ? contexts.server : contexts.client
            if let context { SSL_CTX_up_ref(context) }
            return context
        }
        guard let context else { return nil }
        defer { SSL_CTX_free(context) }
        return TLSSession(context: context, role: role)
    }

    // MARK: - Loading (off the loop)

    private static func load(_ configuration: TLSConfiguration) throws(TLSError) -> Contexts {
        let client = try makeContext(configuration, server: false)
        guard configuration.certificateFile != nil else { return Contexts(server: nil, client: client) }
        do {
            return Contexts(server: try makeContext(configuration, server: true), client: client)
        } catch {
            SSL_CTX_free(client)
            throw error
        }
    }

    private static func makeContext(_ configuration: TLSConfiguration, server: Bool) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(.setup, file: nil, reason: openSSLReason())
        }
        do {
            try configure(context, configuration, server: server)
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private static func configure(_ context: OpaquePointer, _ configuration: TLSConfiguration, server: Bool) throws(TLSError) {
        guard understudy_ssl_ctx_set_min_tls13(context) == 1 else { throw TLSError(.setup, file: nil, reason: openSSLReason()) }
        // No session resumption: connections are long-lived, and tickets would only add bytes.
        _ = SSL_CTX_set_num_tickets(context, 0)
        if let certificate = configuration.certificateFile {
            try requireReadable(certificate, .certificate)
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw TLSError(.certificate, file: certificate, reason: openSSLReason())
            }
            let key = configuration.keyFile ?? certificate
            try requireReadable(key, .key)
            // OpenSSL checks the key against the certificate as it loads it.
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
                let reason = openSSLReason()
                guard reason.contains("mismatch") else { throw TLSError(.key, file: key, reason: reason) }
                throw TLSError(.keyMismatch, file: key, reason: "it does not match the certificate \(certificate) (\(reason))")
            }
        }
        guard let ca = configuration.caFile else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            return
        }
        try requireReadable(ca, .ca)
        guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else { throw TLSError(.ca, file: ca, reason: openSSLReason()) }
        // A server with a CA asks every client for a certificate and refuses those without one.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nil)
    }

    /// OpenSSL's own message for a missing file is "system lib"; the system's says what is wrong.
    private static func requireReadable(_ path: String, _ kind: TLSError.Kind) throws(TLSError) {
        if access(path, R_OK) != 0 { throw TLSError(kind, file: path, reason: String(cString: strerror(errno))) }
    }

    private static func free(_ contexts: Contexts) {
        if let server = contexts.server { SSL_CTX_free(server) }
        SSL_CTX_free(contexts.client)
    }

    static func summary(_ certificate: OpaquePointer) -> String {
        var serial = "?"
        if let number = ASN1_INTEGER_to_BN(X509_get_serialNumber(certificate), nil) {
            if let hex = BN_bn2hex(number) {
                serial = String(cString: hex)
                CRYPTO_free(hex, #file, #line)
            }
            BN_free(number)
        }
        var subject = "?"
        if let line = X509_NAME_oneline(X509_get_subject_name(certificate), nil, 0) {
            subject = String(cString: line)
            CRYPTO_free(line, #file, #line)
        }
        return "serial \(serial), subject \(subject)"
    }
}

/// Every error OpenSSL queued on this thread, oldest first, and the queue cleared.
func openSSLReason() -> String {
    var reasons: [String] = []
    while case let code = ERR_get_error(), code != 0 {
        var buffer = [UInt8](repeating: 0, count: 256)
        buffer.withUnsafeMutableBytes { ERR_error_string_n(code, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        reasons.append(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
    }
    return reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")
}
