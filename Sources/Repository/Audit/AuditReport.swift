import Tranlog

/// What `Audit.run` found in a data directory: every problem (not just the first), the notes that
/// are not damage, and how much was checked, so "ok" can be told apart from "nothing was read".
public struct AuditReport: Codable, Hashable, Sendable {
    public var dataDirectory: String
    /// True when there are no problems; notes do not count.
    public var ok: Bool
    public var problems: [AuditProblem]
    public var notes: [AuditNote]
    public var counts: AuditCounts
    /// The applied position MANIFEST says the extents contain; nil when MANIFEST cannot be read.
    public var checkpoint: AppliedPosition?

    init(dataDirectory: String, findings: AuditFindings, counts: AuditCounts, checkpoint: AppliedPosition?) {
        self.dataDirectory = dataDirectory
        self.ok = findings.problems.isEmpty
        self.problems = findings.problems
        self.notes = findings.notes
        self.counts = counts
        self.checkpoint = checkpoint
    }
}

/// The manual's two audits: the page audit checks that every file and block reads back intact;
/// the object audit checks that what they hold is consistent (objects, positions, history).
public enum AuditArea: String, Codable, Hashable, Sendable {
    case page
    case object
}

/// One piece of damage or inconsistency: where it is and what the operator should do.
public struct AuditProblem: Codable, Hashable, Sendable, CustomStringConvertible {
    public var area: AuditArea
    /// The path of the damaged or inconsistent file.
    public var file: String
    /// The byte offset of the damage in `file`, when it is known.
    public var offset: UInt64?
    public var detail: String
    public var remedy: String

    public var description: String {
        "\(area) problem in \(file)" + (offset.map { " at offset \($0)" } ?? "") + ": \(detail)"
    }
}

/// Something an operator should know that is not damage: a torn tail, leftover files.
public struct AuditNote: Codable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var offset: UInt64?
    public var detail: String

    public var description: String { "\(file)" + (offset.map { " at offset \($0)" } ?? "") + ": \(detail)" }
}

/// How much the audit read.
public struct AuditCounts: Codable, Hashable, Sendable {
    /// Runs named in MANIFEST that were opened.
    public var extentRuns = 0
    /// Blocks and entries of the runs that verified whole.
    public var extentBlocks = 0
    public var extentEntries = 0
    /// Tranlog files found in `tranlogs/`, and the records that verified.
    public var tranlogFiles = 0
    public var tranlogRecords = 0
    /// Live objects after merging the runs that verified.
    public var objects = 0
}

/// What every problem tells the operator to do unless a narrower remedy applies.
enum AuditRemedy {
    static let restore = "restore from a backup and replay tranlogs: docs/OPERATIONS.md, 'Damaged disk or files'"
    static let missingTranlog =
        "copy the missing tranlog back (from the archive or a standby); if there is no copy, " + restore
}

/// The problems and notes collected while the audit goes on past each one.
struct AuditFindings {
    private(set) var problems: [AuditProblem] = []
    private(set) var notes: [AuditNote] = []

    mutating func problem(
        _ area: AuditArea, file: String, offset: UInt64? = nil, _ detail: String, remedy: String = AuditRemedy.restore
    ) {
        problems.append(AuditProblem(area: area, file: file, offset: offset, detail: detail, remedy: remedy))
    }

    mutating func note(file: String, offset: UInt64? = nil, _ detail: String) {
        notes.append(AuditNote(file: file, offset: offset, detail: detail))
    }
}
