/// A TLS file that cannot be used, named, with what OpenSSL said and what to do about it.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable {
        case certificate, key, keyMismatch, ca, setup

        var what: String {
            switch self {
            case .certificate: "TLS certificate file"
            case .key, .keyMismatch: "TLS key file"
            case .ca: "TLS CA file"
            case .setup: "TLS setup"
            }
        }
    }

    public var kind: Kind
    /// The file at fault; nil for `setup`.
    public var file: String?
    /// OpenSSL's reason, or the system's.
    public var reason: String

    public init(_ kind: Kind, file: String?, reason: String) {
        self.kind = kind
        self.file = file
        self.reason = reason
    }

    public var description: String {
        let place = file.map { " \($0)" } ?? ""
        return "\(kind.what)\(place) cannot be used: \(reason); \(advice)"
    }

    private var advice: String {
        switch kind {
        case .certificate: "give --tls-cert a PEM certificate (the node's first, then any intermediates) this user can read"
        case .key: "give --tls-key the PEM private key of the certificate, unencrypted, readable by this user only"
        case .keyMismatch: "the key is not the certificate's: give --tls-key the key the certificate was made for (OPERATIONS: TLS)"
        case .ca: "give --tls-ca the PEM certificate of the CA that signs the peers' certificates"
        case .setup: "OpenSSL could not create a TLS context; check the libssl installation"
        }
    }
}
