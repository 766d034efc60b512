import Foundation

/// The identity of a repository, fixed by `init` and written into every tranlog file header, backup
/// and handshake, so that logs of another repository are refused instead of replayed.
public struct RepositoryID: Hashable, Sendable, TextCodable {
    public static let textFormat = "a repository id (a UUID)"

    public var uuid: UUID

    public init(uuid: UUID) { self.uuid = uuid }
    public static func random() -> RepositoryID { RepositoryID(uuid: UUID()) }

    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The 16 bytes as stored on disk.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 16, "a repository id is 16 bytes")
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { target in
            for (index, byte) in bytes.enumerated() { target[index] = byte }
        }
        self.uuid = UUID(uuid: raw)
    }

    public var description: String { uuid.uuidString.lowercased() }
}
