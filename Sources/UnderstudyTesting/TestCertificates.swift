import Foundation
import Tranlog

/// CAs and certificates made with the `openssl` command in a directory, for TLS tests: what an
/// operator does by the runbook (OPERATIONS: "TLS"), on P-256 keys valid for two days. A missing
/// `openssl` fails the test that needs it.
public struct TestCertificates: Sendable {
    public struct Identity: Sendable {
        public let certificate: String
        public let key: String
    }

    public let directory: URL

    public init(in directory: URL) {
        self.directory = directory
    }

    /// A self-signed CA named `name` (`name.crt`, `name.key`).
    @discardableResult
    public func makeCA(_ name: String) throws -> Identity {
        let identity = paths(name)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                     "-subj", "/CN=\(name)", "-keyout", identity.key, "-out", identity.certificate])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: identity.key)
        return identity
    }

    /// A certificate for `name` with `serial`, signed by the CA `ca` made by `makeCA`; its key mode 0600.
    @discardableResult
    public func makeCertificate(_ name: String, signedBy ca: Identity, serial: Int) throws -> Identity {
        let identity = paths(name)
        let request = directory.appendingPathComponent("\(name).csr").path
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
                     "-keyout", identity.key, "-out", request])
        try openssl(["x509", "-req", "-in", request, "-CA", ca.certificate, "-CAkey", ca.key, "-set_serial", "\(serial)",
                     "-days", "2", "-out", identity.certificate])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: identity.key)
        return identity
    }

    private func paths(_ name: String) -> Identity {
        Identity(certificate: directory.appendingPathComponent("\(name).crt").path, key: directory.appendingPathComponent("\(name).key").path)
    }

    public struct OpenSSLFailed: Error, CustomStringConvertible {
        public let arguments: [String]
        public let output: String
        public var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
    }

    /// Runs `openssl` with `arguments`; its output (both streams) when it succeeded.
    @discardableResult
    public static func openssl(_ arguments: [String], input: String = "") throws -> String {
        let finished = try ChildProcess.run("openssl", arguments, input: Array(input.utf8))
        let text = String(decoding: finished.output + finished.errors, as: UTF8.self)
        guard finished.termination.succeeded else { throw OpenSSLFailed(arguments: arguments, output: text) }
        return text
    }

    private func openssl(_ arguments: [String]) throws {
        try Self.openssl(arguments)
    }

    /// The certificate a TLS server at `127.0.0.1:port` presents, as `openssl x509 -serial -subject` prints it.
    public static func servedCertificate(port: Int, identity: Identity? = nil, ca: Identity? = nil) throws -> String {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_3"]
        if let identity { arguments += ["-cert", identity.certificate, "-key", identity.key] }
        if let ca { arguments += ["-CAfile", ca.certificate] }
        let session = try openssl(arguments)
        guard let begin = session.range(of: "-----BEGIN CERTIFICATE-----"), let end = session.range(of: "-----END CERTIFICATE-----") else {
            throw OpenSSLFailed(arguments: arguments, output: "no certificate in: \(session)")
        }
        let pem = String(session[begin.lowerBound..<end.upperBound]) + "\n"
        return try openssl(["x509", "-noout", "-serial", "-subject"], input: pem)
    }
}
