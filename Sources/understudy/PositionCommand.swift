import ArgumentParser

/// `understudy position show|set`: the applied position a data directory stores, as Tungsten's
/// `dsctl get` / `dsctl set` read and write trep_commit_seqno.
struct PositionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "position",
        abstract: "Show or set the applied position a data directory stores (like Tungsten's `dsctl get/set`).",
        discussion: """
            The applied position is the last record the extents reflect, stored in extents/MANIFEST at each \
            checkpoint: seqno, epoch, event id, source id, commit time and the record's CRC. A start resumes \
            after it. `position set` is for the external-backup procedure (docs/OPERATIONS.md, "Positions: \
            show, set, find"); it never changes objects.
            """,
        subcommands: [PositionShow.self, PositionSet.self])
}
