/// The files of TLS on a node's ports or a client's connections (PEM). A node needs a certificate and
/// its key; a client may go without (unless the server asks for one). With a CA, the peer must present
/// a certificate signed by it: a server then refuses clients without one (mutual TLS), a client
/// refuses a server whose certificate it does not sign.
public struct TLSConfiguration: Sendable, Equatable {
    /// The certificate (chain), leaf first.
    public var certificateFile: String?
    public var keyFile: String?
    public var caFile: String?

    public init(certificateFile: String? = nil, keyFile: String? = nil, caFile: String? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
    }
}
