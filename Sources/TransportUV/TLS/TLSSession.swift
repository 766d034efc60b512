import COpenSSL

/// One connection's TLS state: an `SSL` whose two memory BIOs stand in for the socket. The connection
/// feeds what it read from the socket in (`receive`), and sends what collects in the output BIO
/// (`takeOutput`): handshake messages, encrypted records, alerts. Loop-confined, like its connection;
/// the `SSL` is freed with the session.
final class TLSSession {
    enum Role { case server, client }

    enum Progress: Equatable {
        /// More bytes from the peer are needed.
        case handshaking
        /// Established (possibly just now); `plaintext` holds what the peer's records carried.
        case established
        /// The peer sent close_notify.
        case closedByPeer
        /// A fatal error: the handshake failed or a record was bad. The output may hold an alert to send.
        case failed(String)
    }

    let role: Role
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    private(set) var isEstablished = false
    private(set) var hasFailed = false
    private var shutdownSent = false

    init?(context: OpaquePointer, role: Role) {
        guard let ssl = SSL_new(context) else { return nil }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            return nil
        }
        // The SSL owns both BIOs from here: SSL_free frees them.
        SSL_set_bio(ssl, input, output)
        if role == .server { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
        self.role = role
        self.ssl = ssl
        self.input = input
        self.output = output
    }

    deinit {
        SSL_free(ssl)
    }

    /// Advances the handshake without input: a client's first call writes its ClientHello.
    func handshake() -> Progress {
        var none: [UInt8] = []
        return receive(UnsafeRawBufferPointer(start: nil, count: 0), into: &none)
    }

    /// Feeds `ciphertext` from the socket; appends the plaintext it carried to `plaintext`.
    func receive(_ ciphertext: UnsafeRawBufferPointer, into plaintext: inout [UInt8]) -> Progress {
        guard !hasFailed else { return .failed("TLS already failed") }
        if let base = ciphertext.baseAddress, ciphertext.count > 0 {
            // A memory BIO grows as needed: the write takes everything.
            _ = BIO_write(input, base, Int32(ciphertext.count))
        }
        ERR_clear_error()
        if !isEstablished {
            let status = SSL_do_handshake(ssl)
            if status != 1 { return outcome(of: status, whileHandshaking: true) }
            isEstablished = true
        }
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count <= 0 { return outcome(of: count, whileHandshaking: false) }
            plaintext.append(contentsOf: chunk[..<Int(count)])
        }
    }

    private func outcome(of status: Int32, whileHandshaking: Bool) -> Progress {
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return whileHandshaking ? .handshaking : .established
        case SSL_ERROR_ZERO_RETURN:
            return .closedByPeer
        default:
            hasFailed = true
            return .failed(failureReason())
        }
    }

    /// OpenSSL's reasons, with the certificate check's verdict when that is what failed, and a hint
    /// when the peer plainly does not speak TLS.
    private func failureReason() -> String {
        var reason = openSSLReason()
        let verdict = SSL_get_verify_result(ssl)
        if verdict != Int(X509_V_OK) {
            reason += " (peer certificate: \(String(cString: X509_verify_cert_error_string(verdict))))"
        }
        if reason.contains("wrong version number") || reason.contains("http request") || reason.contains("packet length too long") {
            reason += " — the peer does not speak TLS (a plain http:// client, or a node started without --tls-cert)"
        }
        return reason
    }

    /// Encrypts `plaintext` into records in the output. Established sessions only.
    func send(_ plaintext: [UInt8]) -> Progress {
        precondition(isEstablished, "plaintext is sent once the handshake completed")
        guard !hasFailed else { return .failed("TLS already failed") }
        guard !plaintext.isEmpty else { return .established }
        ERR_clear_error()
        let status = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        return status > 0 ? .established : outcome(of: status, whileHandshaking: false)
    }

    /// Queues close_notify, once, on an established session that did not fail.
    func shutdown() {
        guard isEstablished, !hasFailed, !shutdownSent else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Everything waiting in the output BIO, in memory the caller owns (nil when nothing waits).
    func takeOutput() -> UnsafeMutableRawBufferPointer? {
        let pending = understudy_bio_pending(output)
        guard pending > 0 else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pending, alignment: 1)
        let read = BIO_read(output, buffer.baseAddress, Int32(pending))
        precondition(Int(read) == pending, "a memory BIO yields everything it holds")
        return buffer
    }

    /// The peer's certificate, for logs ("serial …, subject …"); nil when it presented none.
    var peerCertificateSummary: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        return TLSContext.summary(certificate)
    }
}
