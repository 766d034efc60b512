import ArgumentParser
import Repository
import SystemPackage
import Tranlog

/// `understudy position set`: rewrites the applied position of a stopped node's data directory
/// (Tungsten's `dsctl set -reset -seqno -epoch -event-id -source-id`).
struct PositionSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the applied position of a stopped node's data directory (like Tungsten's `dsctl set`).",
        discussion: """
            For the external-backup procedure: the data (extents) is known to reflect exactly through seqno N. \
            Objects are not changed, so a wrong position silently diverges the data; hence the refusals: a \
            position is refused when its epoch does not cover seqno N in the epoch history, when the local \
            tranlogs hold seqno N with another epoch, event id, source id or CRC, or when the event id given \
            starts another record. --force stores it anyway.

            When the local tranlogs hold the record, its event id, time and CRC are taken from there. Otherwise \
            the record's CRC must be given with --record-crc (print it with `understudy tranlog find --node \
            PRIMARY_URL --seqno N`): a standby presents it to its primary, which checks it is on the same \
            timeline. This one is never forced. The new MANIFEST replaces the old one atomically.
            """)

    @Option(help: ArgumentHelp("The data directory of a stopped node.", valueName: "DIR"))
    var data: String

    @Option(help: "The seqno of the last record the data reflects.")
    var seqno: UInt64

    @Option(help: "That record's epoch.")
    var epoch: UInt64

    @Option(name: .customLong("event-id"), help: ArgumentHelp("That record's event id.", valueName: "tranlogN.dbf:OFFSET"), transform: ArgumentParsing.eventID)
    var eventID: EventID?

    @Option(name: .customLong("source-id"), help: "The source id that wrote that record.", transform: ArgumentParsing.sourceID)
    var sourceID: SourceID?

    @Option(name: .customLong("record-crc"), help: ArgumentHelp("That record's CRC, as `tranlog find` prints it.", valueName: "0xCRC"), transform: ArgumentParsing.recordCRC)
    var recordCRC: UInt32?

    @Flag(help: "Store the position despite contradicting the epoch history or the local tranlogs.")
    var force = false

    @Flag(help: "Print what was stored as JSON.")
    var json = false

    func run() throws {
        let request = PositionRequest(
            seqno: Seqno(seqno), epoch: Epoch(epoch), eventID: eventID, sourceID: sourceID, recordCRC: recordCRC, force: force)
        let change: PositionChange
        do { change = try Repository.setPosition(request, in: DataDirectory(FilePath(data))) } catch { throw CommandError(error.description) }
        if json { return print(try jsonDocument(change)) }
        let stored = change.stored
        printFields([
            "position set": "seqno \(stored.seqno), epoch \(stored.epoch)",
            "event id": stored.eventID.map { "\($0)" } ?? "unknown",
            "commit time": stored.time?.iso8601 ?? "unknown",
            "record CRC": stored.recordCRC.map { CRCText.format($0) } ?? "unknown",
            "taken from": change.localRecord.map { "the local record at \($0.eventID)" } ?? "the options given (the record is not in the local tranlogs)",
            "previous": "\(change.previous)",
            "manifest": "generation \(change.manifestGeneration), oldest tranlog needed \(change.oldestFileIDNeeded.fileName)",
        ])
        for forced in change.forced { print("forced past: \(forced)") }
        for note in change.notes { print("note: \(note)") }
    }
}
