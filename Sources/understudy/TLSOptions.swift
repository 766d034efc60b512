import ArgumentParser
import Node
import TransportUV

/// `--tls-cert`, `--tls-key`, `--tls-ca` of `start` and `standby`: TLS 1.3 on both ports and on the
/// connections to the primary (OPERATIONS: "TLS").
struct NodeTLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "Serve TLS 1.3 on the HTTP and replication ports with this PEM certificate (chain); also presented to the primary. "
            + "Reloaded on SIGHUP.", valueName: "FILE"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp(
        "The certificate's PEM private key (mode 0600, like the replication key file).", valueName: "FILE"))
    var key: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "Peers must present a certificate signed by this CA (PEM): clients of both ports (mutual TLS), and the primary.",
        valueName: "FILE"))
    var ca: String?

    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if ca != nil && certificate == nil { throw ValidationError("--tls-ca needs --tls-cert and --tls-key: the node serves TLS with them") }
    }

    func apply(to configuration: inout NodeConfiguration) {
        configuration.tls = tlsConfiguration(certificate: certificate, key: key, ca: ca)
    }
}

/// The same flags for a command talking to a node at an `https://` URL.
struct ClientTLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "With an https:// node URL: the CA (PEM) that signed the node's certificate.", valueName: "FILE"))
    var ca: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "With an https:// node URL: this client's PEM certificate, for a node started with --tls-ca.", valueName: "FILE"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The client certificate's PEM private key.", valueName: "FILE"))
    var key: String?

    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    var configuration: TLSConfiguration? { tlsConfiguration(certificate: certificate, key: key, ca: ca) }
}

/// Nil when no flag was given: plain TCP.
private func tlsConfiguration(certificate: String?, key: String?, ca: String?) -> TLSConfiguration? {
    if certificate == nil && key == nil && ca == nil { return nil }
    return TLSConfiguration(certificateFile: certificate, keyFile: key, caFile: ca)
}
