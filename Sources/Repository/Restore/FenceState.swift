import Foundation
import SystemPackage
import Tranlog

/// A primary that learned of an epoch newer than its own (another node was promoted while it ran)
/// is **fenced**: it acknowledges no more commits, until it is re-seeded or explicitly unfenced.
/// `DATA/fence.json`, replaced atomically, is the commit point: it is durable before the first
/// commit is refused, so a restart finds the node fenced again. Absent means not fenced.
public struct FenceState: Codable, Hashable, Sendable, CustomStringConvertible {
    public static let formatVersion = 1

    public var formatVersion = FenceState.formatVersion
    /// The newer epoch.
    public var epoch: Epoch
    /// The seqno that epoch began at, when known (an operator's fence may not know it).
    public var seqno: Seqno?
    /// The node that opened it (the source id of its epochBegin), when known.
    public var node: String?
    /// How this node learned of it: the operator, a standby's hello, a client's request.
    public var learnedFrom: String
    /// When this node was fenced (µs since the Unix epoch).
    public var since: Timestamp
    /// This node's last visible seqno when it was fenced: no commit past it was acknowledged here,
    /// so the records it may have lost to the new epoch are those from the epoch's start to this.
    public var acknowledgedThrough: Seqno

    public init(epoch: Epoch, seqno: Seqno?, node: String?, learnedFrom: String, since: Timestamp, acknowledgedThrough: Seqno) {
        self.epoch = epoch
        self.seqno = seqno
        self.node = node
        self.learnedFrom = learnedFrom
        self.since = since
        self.acknowledgedThrough = acknowledgedThrough
    }

    /// `fenced: epoch E began at seqno S on NODE`, the start of every refusal.
    public var description: String {
        "fenced: epoch \(epoch) began at " + (seqno.map { "seqno \($0)" } ?? "an unknown seqno")
            + " on " + (node ?? "an unknown node")
    }
}

/// What `Repository.fence` did.
public enum FenceOutcome: Hashable, Sendable {
    /// `fence.json` is durable and commits are refused from now on.
    case fenced(FenceState)
    /// The node was already fenced at that epoch or a newer one: nothing changed.
    case alreadyFenced(FenceState)

    /// The fence in force after it.
    public var state: FenceState {
        switch self {
        case .fenced(let state), .alreadyFenced(let state): state
        }
    }
}

enum FenceStore {
    static func read(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) -> FenceState? {
        guard fileSystem.fileExists(directory.fenceFile) else { return nil }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(directory.fenceFile) } catch { throw .tranlog(error) }
        let corrupt = RepositoryError.dataDirectory(
            path: directory.root.string,
            problem: "\(directory.fenceFile.string) is corrupt or of another format; it records that this node learned of a newer "
                + "epoch and must accept no commits. Re-seed the node as a standby of the new primary, or remove the file if you "
                + "know no other node accepts writes")
        let state: FenceState
        do { state = try JSONDecoder().decode(FenceState.self, from: Data(bytes)) } catch { throw corrupt }
        guard state.formatVersion == FenceState.formatVersion else { throw corrupt }
        return state
    }

    static func write(_ state: FenceState, _ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        do { try fileSystem.replaceFile(directory.fenceFile, contents: JSONCoding.encode(state)[...]) } catch { throw .tranlog(error) }
    }

    /// Removes the file and makes its removal durable.
    static func remove(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        do {
            try fileSystem.removeFile(directory.fenceFile)
            try fileSystem.syncDirectory(directory.root)
        } catch {
            throw .tranlog(error)
        }
    }
}
