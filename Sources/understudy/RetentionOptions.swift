import ArgumentParser
import Repository

/// Tranlog retention and rotation flags of `start` and `standby` (a standby keeps them once promoted).
struct RetentionOptions: ParsableArguments {
    @Option(name: .customLong("max-retained-mbytes"), help: ArgumentHelp(
        "Keep at most this many MiB of tranlog for standbys: in partial logging mode older files are removed past it "
            + "(the standbys needing them must be re-seeded); in full logging mode it sets the runway reported. Default: no limit.",
        valueName: "N"))
    var maxRetainedMBytes: UInt64?

    @Option(name: .customLong("rotation-kbytes"), help: ArgumentHelp("Rotate tranlogs at this many KiB (default 65536; at least 4).", valueName: "N"))
    var rotationKBytes: Int?

    func validate() throws {
        if maxRetainedMBytes == 0 { throw ValidationError("--max-retained-mbytes must be at least 1") }
    }

    func apply(to configuration: inout RepositoryConfiguration) {
        if let maxRetainedMBytes { configuration.maxRetainedBytes = maxRetainedMBytes << 20 }
        if let rotationKBytes { configuration.rotationBytes = rotationKBytes << 10 }
    }
}
