import Foundation
import Replication
import SystemPackage

/// Reads the shared replication secret. The trailing newline an editor or `echo` leaves is not part
/// of the key, so primary and standby agree however the file was written.
enum ReplicationKeyFile {
    /// The node's keys: nil without any (replication off); the first signs, a second is accepted
    /// too (a rotation).
    static func read(_ paths: [FilePath]) throws(NodeError) -> ReplicationKey? {
        guard let first = paths.first else { return nil }
        var others: [ReplicationKey] = []
        for path in paths.dropFirst() { others.append(try read(path)) }
        return try read(first).accepting(others)
    }

    static func read(_ path: FilePath) throws(NodeError) -> ReplicationKey {
        guard let data = FileManager.default.contents(atPath: path.string) else {
            throw .invalidConfiguration("cannot read the replication key file \(path)")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        // Checked here because `ReplicationKey` traps on a short key: an operator's mistake must not crash the node.
        guard bytes.count >= 16 else {
            throw .invalidConfiguration("the replication key file \(path) holds \(bytes.count) bytes; a key needs at least 16")
        }
        return ReplicationKey(bytes: bytes)
    }
}
