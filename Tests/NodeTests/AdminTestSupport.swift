import Foundation
import Node
import Repository
import Testing
import Tranlog
import TransportUV
import UnderstudyTesting

/// What the backup and restore tests share: admin requests and bulk writes.
extension NodeFixture {
    var adminToken: String {
        get throws { try AdminToken.read(dataDirectory) }
    }

    /// A raw admin request with the right token; for checking statuses and error bodies.
    func admin(_ method: String, _ path: String, body: String = "") throws -> HTTPResponse {
        try send(method, path, headers: ["Authorization": "Bearer \(try adminToken)"], body: body)
    }

    /// Writes `count` objects `prefix0`, `prefix1`, … in batches; values of `valueBytes` bytes that
    /// deflate does not shrink (so size limits bite on compressed backups too), or repeat one letter
    /// when `compressible`. Returns the last commit.
    @discardableResult
    func writeObjects(_ count: Int, prefix: String, valueBytes: Int = 16, compressible: Bool = false) throws -> CommitReply {
        // A fixed seed: the same bytes on every run.
        var generator = SeededRandom(seed: UInt64(count))
        var last: CommitReply?
        for start in stride(from: 0, to: count, by: 500) {
            let operations = (start..<min(start + 500, count)).map { index in
                Tranlog.Operation.put(
                    key: [UInt8]("\(prefix)\(index)"),
                    value: compressible ? [UInt8](repeating: UInt8(ascii: "a"), count: valueBytes) : (0..<valueBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
            last = try client.commit(CommitBatch(Transaction(operations: operations)))
        }
        return try #require(last)
    }
}

/// The names in a directory, to check that a refused request created nothing.
func directoryListing(_ path: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path.path).sorted()
}
