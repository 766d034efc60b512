import Foundation
import Logging
import Node
import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import TransportUV
import UnderstudyTesting

/// Logs only what would explain a failure.
let quietLogger: Logger = {
    var logger = Logger(label: "understudy.node.test")
    logger.logLevel = .warning
    return logger
}()

/// A primary on a fresh data directory (HTTP on 127.0.0.1, port 0) and a client for it.
final class NodeFixture {
    let root: URL
    let dataDirectory: DataDirectory
    let repositoryConfig: DataDirectoryConfig
    private let configure: (inout NodeConfiguration) -> Void
    private(set) var node: UnderstudyNode
    private(set) var client: NodeClient

    init(configure: @escaping (inout NodeConfiguration) -> Void = { _ in }) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        dataDirectory = DataDirectory(FilePath(root.appendingPathComponent("data").path))
        self.configure = configure
        do {
            repositoryConfig = try DataDirectory.initialize(dataDirectory.root, sourceID: SourceID("node-test")!, loggingMode: .full)
            (node, client) = try Self.start(dataDirectory, configure)
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw error
        }
    }

    /// A node on `dataDirectory` (HTTP on 127.0.0.1, any port) and a client for it.
    static func start(
        _ dataDirectory: DataDirectory, logger: Logger = quietLogger, _ configure: (inout NodeConfiguration) -> Void
    ) throws -> (UnderstudyNode, NodeClient) {
        var configuration = NodeConfiguration(dataDirectory: dataDirectory)
        configuration.httpAddress = SocketAddress(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let node = try UnderstudyNode(configuration: configuration, logger: logger)
        do {
            return (node, try NodeClient(address: node.httpAddress, timeout: .seconds(10), logger: quietLogger))
        } catch {
            try? node.stop()
            throw error
        }
    }

    /// A clean stop (final checkpoint, shutdown record), then a new node on the same directory;
    /// `beforeOpening` runs in between (e.g. entering restore mode).
    func restart(beforeOpening: () throws -> Void = {}) throws {
        client.close()
        try node.stop()
        try beforeOpening()
        (node, client) = try Self.start(dataDirectory, configure)
    }

    func tearDown() {
        client.close()
        try? node.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// Sends a raw request; for checking statuses and error bodies.
    func send(_ method: String, _ path: String, headers: HTTPHeaders = HTTPHeaders(), body: String = "") throws -> HTTPResponse {
        try client.send(method: method, path: path, headers: headers, body: Array(body.utf8))
    }
}

/// Runs `body` with a fresh node, torn down however the test ends.
func withNode<Value>(
    configure: @escaping (inout NodeConfiguration) -> Void = { _ in }, _ body: (NodeFixture) throws -> Value
) throws -> Value {
    let fixture = try NodeFixture(configure: configure)
    defer { fixture.tearDown() }
    return try body(fixture)
}

/// Runs `body` with a fresh node serving standbys (a replication key file, the replication port on
/// any free port), `configure` adding the rest.
func withServingNode<Value>(
    configure: @escaping (inout NodeConfiguration) -> Void = { _ in }, _ body: (NodeFixture) throws -> Value
) throws -> Value {
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-key-\(UUID().uuidString)")
    try writeSecret("sixteen-or-more-bytes\n", to: keyFile)
    defer { try? FileManager.default.removeItem(at: keyFile) }
    return try withNode(configure: {
        $0.replicationKeyFile = FilePath(keyFile.path)
        $0.replicationAddress = SocketAddress(host: "127.0.0.1", port: 0)
        configure(&$0)
    }, body)
}

extension [UInt8] {
    init(_ text: String) { self = Array(text.utf8) }
}
