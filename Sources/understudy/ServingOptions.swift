import ArgumentParser
import Node
import Repository

/// How a node serves its clients and standbys: busy polling, tranlog retention and rotation, stream
/// compression. Flags of `start` and `standby` (a standby uses them once promoted).
struct ServingOptions: ParsableArguments {
    @Option(name: .customLong("max-retained-mbytes"), help: ArgumentHelp(
        "Keep at most this many MiB of tranlog for standbys: in partial logging mode older files are removed past it "
            + "(the standbys needing them must be re-seeded); in full logging mode it sets the runway reported. Default: no limit.",
        valueName: "N"), transform: ArgumentParsing.integer(in: 1...(1 << 30), "MiB"))
    var maxRetainedMBytes: Int?

    // At most 4 GiB: a segment is preallocated and zero-filled ahead of the writer.
    @Option(name: .customLong("rotation-kbytes"), help: ArgumentHelp("Rotate tranlogs at this many KiB (default 65536; 4 to 4194304).", valueName: "N"),
            transform: ArgumentParsing.integer(in: 4...(4 << 20), "KiB"))
    var rotationKBytes: Int?

    @Option(name: .customLong("standby-slot-expiry"), help: ArgumentHelp(
        "Stop keeping tranlogs for a known standby not heard from for this many seconds (default 86400, a day; 0: keep them "
            + "until `standbys forget`). It is logged, shown as slotExpired and counted in understudy_standby_slot_expired.",
        valueName: "SECONDS"), transform: ArgumentParsing.wholeSeconds(from: 0))
    var standbySlotExpirySeconds: Int?

    @Option(name: .customLong("busy-poll-us"), help: ArgumentHelp(
        "After each request and answer the HTTP loop, and after each sync the tranlog's flush thread, poll this many "
            + "microseconds for more work before sleeping (default 300; 0: sleep at once). Spares a lone client's commits three "
            + "wake-ups; uses CPU while clients are active, none when idle.",
        valueName: "N"), transform: ArgumentParsing.integer(in: 0...1_000_000, "microseconds"))
    var busyPollMicroseconds: Int?

    @Flag(help: "Ship tranlog records to standbys gzip-compressed (batches that compress; for slow links). The ratio is in status and metrics.")
    var compress = false

    func apply(to configuration: inout NodeConfiguration) {
        if let maxRetainedMBytes { configuration.repository.maxRetainedBytes = UInt64(maxRetainedMBytes) << 20 }
        if let rotationKBytes { configuration.repository.rotationBytes = rotationKBytes << 10 }
        if let seconds = standbySlotExpirySeconds { configuration.repository.standbySlotExpiry = seconds == 0 ? nil : .seconds(seconds) }
        configuration.compressReplication = compress
        if let busyPollMicroseconds { configuration.busyPoll = .microseconds(busyPollMicroseconds) }
    }
}
