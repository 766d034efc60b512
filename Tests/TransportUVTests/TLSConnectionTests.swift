import Foundation
import Logging
import Testing
import Transport
import UnderstudyTesting
@testable import TransportUV

/// TLS as a layer inside `UVConnection`: owners see plain bytes; handshakes verify as configured;
/// failures name OpenSSL's reason; `reload()` serves a new certificate to new connections.
@Suite struct TLSConnectionTests {
    /// A directory with a CA "ca", a server certificate (serial 1) and a client certificate (serial 2) it signed,
    /// and a second CA "other" with a client certificate of its own.
    final class Fixture {
        let directory: URL
        let certificates: TestCertificates
        let ca: TestCertificates.Identity
        let server: TestCertificates.Identity
        let client: TestCertificates.Identity
        let stranger: TestCertificates.Identity
        let other: TestCertificates.Identity

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            certificates = TestCertificates(in: directory)
            ca = try certificates.makeCA("ca")
            server = try certificates.makeCertificate("server", signedBy: ca, serial: 1)
            client = try certificates.makeCertificate("client", signedBy: ca, serial: 2)
            other = try certificates.makeCA("other")
            stranger = try certificates.makeCertificate("stranger", signedBy: other, serial: 3)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func serverLoop(requireClientCertificates: Bool = false) throws -> UVEventLoop {
            try tlsLoop(TLSConfiguration(certificateFile: server.certificate, keyFile: server.key,
                                         caFile: requireClientCertificates ? ca.certificate : nil))
        }

        func clientLoop(_ identity: TestCertificates.Identity? = nil, ca: TestCertificates.Identity? = nil) throws -> UVEventLoop {
            try tlsLoop(TLSConfiguration(certificateFile: identity?.certificate, keyFile: identity?.key, caFile: (ca ?? self.ca).certificate))
        }
    }

    static func tlsLoop(_ configuration: TLSConfiguration) throws -> UVEventLoop {
        var logger = Logger(label: "understudy.transport.tls-test")
        logger.logLevel = .critical
        return try UVEventLoop(tls: try TLSContext(configuration), logger: logger)
    }

    /// Listens on 127.0.0.1 with `onAccept` on the loop thread; the port.
    static func listen(on loop: UVEventLoop, _ onAccept: @escaping @Sendable (any Connection) -> Void) throws -> Int {
        try #require(loop.executeAndWait { () -> Int? in try? loop.listen(host: "127.0.0.1", port: 0, onAccept: onAccept).address.port } ?? nil)
    }

    @Test func bytesCrossAVerifiedConnectionUnchangedBothWays() throws {
        let fixture = try Fixture()
        let serverLoop = try fixture.serverLoop()
        let clientLoop = try fixture.clientLoop()
        let port = try startEchoServer(on: serverLoop)
        let client = try TestClient(loop: clientLoop, port: port)
        // Several records' worth, sent in pieces before and after the first answer.
        let payload = (0..<(300 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        client.send(Array(payload[..<1000]))
        #expect(client.waitForBytes(1000) == Array(payload[..<1000]))
        client.send(Array(payload[1000...]))
        #expect(client.waitForBytes(payload.count) == payload)
        shutdownCleanly(clientLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func writesBeforeTheHandshakeCompletedAreSentAfterIt() throws {
        let fixture = try Fixture()
        let serverLoop = try fixture.serverLoop()
        let clientLoop = try fixture.clientLoop()
        // The server speaks first: its greeting is written on accept, while the handshake has only begun.
        let port = try Self.listen(on: serverLoop) { connection in
            connection.start(ConnectionCallbacks(onRead: { _ in }))
            _ = connection.write(Array("hello\n".utf8))
        }
        let client = try TestClient(loop: clientLoop, port: port)
        #expect(client.waitForBytes(6) == Array("hello\n".utf8))
        shutdownCleanly(clientLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func aServerCertificateFromAnotherCAFailsTheConnect() throws {
        let fixture = try Fixture()
        let serverLoop = try fixture.serverLoop()
        let clientLoop = try fixture.clientLoop(ca: fixture.other)
        let port = try startEchoServer(on: serverLoop)
        let error = try #require(throws: TransportError.self) { try TestClient(loop: clientLoop, port: port) }
        #expect(error.operation == .tls)
        #expect(error.message.contains("certificate verify failed"), "\(error.message)")
        shutdownCleanly(clientLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func withACAOnlyClientsWithACertificateItSignedAreServed() throws {
        let fixture = try Fixture()
        let serverLoop = try fixture.serverLoop(requireClientCertificates: true)
        let port = try startEchoServer(on: serverLoop)

        let signedLoop = try fixture.clientLoop(fixture.client)
        let signed = try TestClient(loop: signedLoop, port: port)
        signed.send("ping")
        #expect(signed.waitForBytes(4) == Array("ping".utf8))

        // TLS 1.3: a client's handshake completes before the server checked its certificate; the
        // server's alert ends the connection at the client's first read.
        for (name, identity) in [("no certificate", nil), ("another CA's", fixture.stranger)] as [(String, TestCertificates.Identity?)] {
            let loop = try fixture.clientLoop(identity)
            let refused = try TestClient(loop: loop, port: port)
            refused.send("ping")
            let reason = try #require(refused.waitForClose(), "\(name)")
            guard case .failed(let error) = reason else {
                Issue.record("\(name): closed with \(reason)")
                continue
            }
            #expect(error.operation == .tls, "\(name)")
            #expect(refused.log.withLock { $0.received }.isEmpty, "\(name): nothing served")
            shutdownCleanly(loop)
        }
        shutdownCleanly(signedLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func aPlainTextPeerIsClosedWithAReasonSayingSo() throws {
        let fixture = try Fixture()
        let serverLoop = try fixture.serverLoop()
        let closes = Locked<[CloseReason]>([])
        let port = try startEchoServer(on: serverLoop) { reason in closes.withLockNotifying { $0.append(reason) } }
        let plainLoop = try makeLoop()
        let plain = try TestClient(loop: plainLoop, port: port)
        plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(plain.waitForClose() != nil)
        #expect(closes.wait(timeout: deadline) { !$0.isEmpty })
        let reason = "\(closes.withLock { $0 }.first!)"
        #expect(reason.contains("the peer does not speak TLS"), "\(reason)")
        #expect(plain.log.withLock { $0.received }.allSatisfy { $0 != UInt8(ascii: "H") }, "no plain HTTP answer")
        shutdownCleanly(plainLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func anOpenedConnectionWhosePeerNeverAnswersTheHandshakeFailsAsAConnect() throws {
        let fixture = try Fixture()
        let silentLoop = try makeLoop()
        let port = try Self.listen(on: silentLoop) { $0.start(ConnectionCallbacks(onRead: { _ in })) }
        var configuration = TransportConfiguration()
        configuration.tlsHandshakeTimeout = .milliseconds(200)
        let clientLoop = try UVEventLoop(configuration: configuration, tls: try TLSContext(TLSConfiguration(caFile: fixture.ca.certificate)),
                                         logger: Logger(label: "tls-test") { _ in SwiftLogNoOpLogHandler() })
        let error = try #require(throws: TransportError.self) { try TestClient(loop: clientLoop, port: port) }
        #expect(error.operation == .tls && error.message.contains("no TLS handshake within"), "\(error)")
        shutdownCleanly(clientLoop)
        shutdownCleanly(silentLoop)
    }

    @Test func aPeerHangingUpDuringTheHandshakeFailsTheConnect() throws {
        let fixture = try Fixture()
        let rudeLoop = try makeLoop()
        let port = try Self.listen(on: rudeLoop) { $0.close(.local("go away")) }
        let clientLoop = try fixture.clientLoop()
        let error = try #require(throws: TransportError.self) { try TestClient(loop: clientLoop, port: port) }
        #expect(error.operation == .tls || error.isConnectionReset, "\(error)")
        shutdownCleanly(clientLoop)
        shutdownCleanly(rudeLoop)
    }

    /// Warnings logged, for counting.
    struct CapturingHandler: LogHandler {
        let lines: Locked<[String]>
        var logLevel = Logger.Level.warning
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.withLockNotifying { $0.append(event.message.description) }
        }
    }

    @Test func failedHandshakesAreLoggedOncePerHostAndReason() throws {
        let fixture = try Fixture()
        let lines = Locked<[String]>([])
        let serverLoop = try UVEventLoop(
            tls: try TLSContext(TLSConfiguration(certificateFile: fixture.server.certificate, keyFile: fixture.server.key)),
            logger: Logger(label: "tls-test") { _ in CapturingHandler(lines: lines) })
        let closes = Locked(0)
        let port = try startEchoServer(on: serverLoop) { _ in closes.withLockNotifying { $0 += 1 } }
        let plainLoop = try makeLoop()
        for _ in 0..<5 {
            let plain = try TestClient(loop: plainLoop, port: port)
            plain.send("GET / HTTP/1.1\r\n\r\n")
            #expect(plain.waitForClose() != nil)
        }
        #expect(closes.wait(timeout: deadline) { $0 == 5 })
        let failures = lines.withLock { $0 }.filter { $0.hasPrefix("TLS handshake with 127.0.0.1:") }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.contains("the peer does not speak TLS") == true)
        shutdownCleanly(plainLoop)
        shutdownCleanly(serverLoop)
    }

    @Test func reloadServesTheNewCertificateToNewConnections() throws {
        let fixture = try Fixture()
        let context = try TLSContext(TLSConfiguration(certificateFile: fixture.server.certificate, keyFile: fixture.server.key))
        #expect(context.certificateSummary?.hasPrefix("serial 01,") == true, "\(context.certificateSummary ?? "nil")")
        let loop = try UVEventLoop(tls: context, logger: Logger(label: "tls-test") { _ in SwiftLogNoOpLogHandler() })
        let port = try startEchoServer(on: loop)
        let clientLoop = try fixture.clientLoop()
        let before = try TestClient(loop: clientLoop, port: port)

        // The operator replaces the files in place, then signals.
        try fixture.certificates.makeCertificate("server", signedBy: fixture.ca, serial: 0x51)
        #expect(context.certificateSummary?.hasPrefix("serial 01,") == true, "nothing changes before the reload")
        try context.reload()
        #expect(context.certificateSummary?.hasPrefix("serial 51,") == true, "\(context.certificateSummary ?? "nil")")
        #expect(try TestCertificates.servedCertificate(port: port).contains("serial=51"))

        before.send("still here")
        #expect(before.waitForBytes(10) == Array("still here".utf8), "an open connection keeps its session")
        shutdownCleanly(clientLoop)
        shutdownCleanly(loop)
    }

    @Test func unusableFilesAreNamedWithWhatToDo() throws {
        let fixture = try Fixture()
        let missing = fixture.directory.appendingPathComponent("missing.crt").path
        let noCertificate = try #require(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(certificateFile: missing, keyFile: fixture.server.key))
        }
        #expect(noCertificate.description.contains("TLS certificate file \(missing) cannot be used: No such file or directory"))

        let mismatch = try #require(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(certificateFile: fixture.server.certificate, keyFile: fixture.client.key))
        }
        #expect(mismatch.kind == .keyMismatch)
        #expect(mismatch.description.contains("does not match the certificate \(fixture.server.certificate)"), "\(mismatch)")

        let garbage = fixture.directory.appendingPathComponent("garbage.pem")
        try Data("not a certificate\n".utf8).write(to: garbage)
        let badCA = try #require(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(certificateFile: fixture.server.certificate, keyFile: fixture.server.key, caFile: garbage.path))
        }
        #expect(badCA.kind == .ca && badCA.file == garbage.path, "\(badCA)")
        #expect(badCA.description.contains("--tls-ca"))

        // A failed reload keeps the context as it was.
        let context = try TLSContext(TLSConfiguration(certificateFile: fixture.server.certificate, keyFile: fixture.server.key))
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: fixture.server.certificate))
        #expect(throws: TLSError.self) { try context.reload() }
        #expect(context.certificateSummary?.hasPrefix("serial 01,") == true)
    }
}
