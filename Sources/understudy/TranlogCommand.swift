import ArgumentParser

/// `understudy tranlog …`: offline tools for a directory of tranlog files. They read the files
/// directly, so they work on a stopped node, a copy, or an archive directory.
struct TranlogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tranlog",
        abstract: "Inspect, list, verify, generate and purge transaction logs (tranlogN.dbf).",
        discussion: """
            A tranlog directory holds tranlog1.dbf, tranlog2.dbf, … in fileId order; archived logs may be \
            gzipped (tranlogN.dbf.gz) and are read transparently. Every read checks each record's CRC, the \
            CRC chain across records and files, seqno continuity and the fileId sequence.
            """,
        subcommands: [TranlogInspect.self, TranlogList.self, TranlogFind.self, TranlogVerify.self, TranlogGenerate.self, TranlogPurge.self])
}
