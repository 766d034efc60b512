/// What a record says. The raw values are the on-disk kind byte and are frozen.
public enum RecordKind: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Puts and deletes of one transaction.
    case commit = 1
    /// A checkpoint finished: the extents hold everything up to the previous record.
    case checkpoint = 2
    /// A new epoch begins (commitRestore). Always the first record of its file.
    case epochBegin = 3
    case backupStart = 4
    case backupEnd = 5
    /// A clean shutdown of the writer.
    case shutdown = 6
    /// The last record of a file that was rotated cleanly. Every file but the newest ends with one.
    case fileEnd = 7

    public var description: String {
        switch self {
        case .commit: "commit"
        case .checkpoint: "checkpoint"
        case .epochBegin: "epochBegin"
        case .backupStart: "backupStart"
        case .backupEnd: "backupEnd"
        case .shutdown: "shutdown"
        case .fileEnd: "fileEnd"
        }
    }
}
