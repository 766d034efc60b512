import Foundation
import Tranlog

/// A standby the primary admitted once and keeps tranlogs for (PostgreSQL's replication slot): kept
/// in `DATA/standbys.json` until an operator forgets it, so a restart of the primary does not
/// forget what a disconnected standby still needs.
public struct KnownStandby: Codable, Hashable, Sendable {
    /// The standby's node name (the source id of its hello).
    public var nodeID: String
    /// Where it last connected from.
    public var address: String
    public var flushedSeqno: Seqno
    public var appliedSeqno: Seqno
    /// The oldest tranlog file it still needs: the file of the first byte it has not acknowledged as flushed.
    public var neededFileID: FileID
    public var lastSeen: Timestamp

    /// Whether it has not been heard from for longer than `expiry` (nil: never expires) at `now`.
    public func hasExpired(_ expiry: Duration?, at now: Timestamp) -> Bool {
        guard let expiry else { return false }
        let (seconds, attoseconds) = expiry.components
        return now.rawValue - lastSeen.rawValue > seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    public init(nodeID: String, address: String, flushedSeqno: Seqno, appliedSeqno: Seqno, neededFileID: FileID, lastSeen: Timestamp) {
        self.nodeID = nodeID
        self.address = address
        self.flushedSeqno = flushedSeqno
        self.appliedSeqno = appliedSeqno
        self.neededFileID = neededFileID
        self.lastSeen = lastSeen
    }
}

/// `standbys.json`: the known standbys, sorted by node id (docs/FORMATS.md).
struct KnownStandbysFile: Codable {
    static let currentFormatVersion = 1

    var formatVersion = Self.currentFormatVersion
    var standbys: [KnownStandby]

    static func read(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) -> [KnownStandby] {
        let path = directory.standbysFile
        guard fileSystem.fileExists(path) else { return [] }
        let bytes = try tranlogCall { () throws(TranlogError) in try fileSystem.readFile(path) }
        guard let file = try? JSONDecoder().decode(KnownStandbysFile.self, from: Data(bytes)),
            file.formatVersion == currentFormatVersion
        else {
            throw .dataDirectory(
                path: directory.root.string,
                problem: "\(path.string) is corrupt or of another format version; it lists the standbys whose tranlogs are kept. "
                    + "Restore it from a backup, or remove it and re-register the standbys by connecting them (their logs are no longer protected until they do)")
        }
        return file.standbys
    }

    /// Atomic and durable: temporary file, fsync, rename, directory fsync.
    static func write(_ standbys: [KnownStandby], _ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        let file = KnownStandbysFile(standbys: standbys.sorted { $0.nodeID < $1.nodeID })
        try tranlogCall { () throws(TranlogError) in try fileSystem.replaceFile(directory.standbysFile, contents: JSONCoding.encode(file)[...]) }
    }
}
