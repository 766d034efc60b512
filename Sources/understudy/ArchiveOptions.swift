import ArgumentParser
import Node
import SystemPackage
import Tranlog

/// `--archive-dir` or `--archive-command`, on `start` and `standby` (a standby archives once
/// promoted). `--rotation-kbytes` (ServingOptions) sets how much a tranlog holds before it is
/// completed and archived.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .customLong("archive-dir"), help: ArgumentHelp(
        "Copy every completed tranlog here as tranlogN.dbf.gz (atomically, off the commit path).", valueName: "DIR"))
    var archiveDirectory: String?

    @Option(name: .customLong("archive-command"), help: ArgumentHelp(
        "Run this through /bin/sh for every completed tranlog, in order, until it exits 0: %p is the file's path, "
            + "%f its name (tranlogN.dbf), %% a %. E.g. 'aws s3 cp %p s3://bucket/REPOSITORY-ID/%f'.", valueName: "CMD"))
    var archiveCommand: String?

    func validate() throws {
        if archiveDirectory != nil && archiveCommand != nil {
            throw ValidationError("--archive-dir and --archive-command exclude each other: archive into a directory or through a command")
        }
        if let archiveCommand, archiveCommand.allSatisfy(\.isWhitespace) { throw ValidationError("--archive-command is empty") }
    }

    func apply(to configuration: inout NodeConfiguration) {
        if let archiveDirectory { configuration.archiveDestination = .directory(FilePath(archiveDirectory)) }
        if let archiveCommand { configuration.archiveDestination = .command(ArchiveCommand(archiveCommand)) }
    }
}

/// `--archive` or `--restore-command`, and `--poll-seconds`: a warm standby, applying an archive
/// instead of following a primary.
struct WarmStandbyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Apply completed tranlogs (plain or .gz) from this archive as they appear, instead of following --primary.", valueName: "DIR"))
    var archive: String?

    @Option(name: .customLong("restore-command"), help: ArgumentHelp(
        "Like --archive, fetching each tranlog through /bin/sh: %f is the name wanted (tranlogN.dbf, plain), %p where to "
            + "write it; exit 0 means fetched, anything else not there yet.", valueName: "CMD"))
    var restoreCommand: String?

    @Option(name: .customLong("poll-seconds"), help: "How often a warm standby looks for new files in its archive (default 2).",
            transform: ArgumentParsing.seconds)
    var pollSeconds: Double?

    func validate(primary: Bool, replicationKeyFile: Bool) throws {
        let warm = archive != nil || restoreCommand != nil
        if archive != nil && restoreCommand != nil { throw ValidationError("--archive and --restore-command exclude each other") }
        if primary && warm { throw ValidationError("--primary and --archive exclude each other: follow a primary or an archive") }
        if !primary && !warm {
            throw ValidationError("give --primary HOST:PORT (hot standby), or --archive DIR or --restore-command CMD (warm standby)")
        }
        if primary && !replicationKeyFile { throw ValidationError("--primary needs --replication-key-file") }
        if !primary && replicationKeyFile {
            throw ValidationError("--replication-key-file goes with --primary; a warm standby (--archive) does not serve standbys")
        }
        if !warm && pollSeconds != nil { throw ValidationError("--poll-seconds applies to a warm standby only") }
    }

    func apply(to configuration: inout NodeConfiguration) {
        if let archive { configuration.standbyArchive = .directory(FilePath(archive)) }
        if let restoreCommand { configuration.standbyArchive = .command(ArchiveCommand(restoreCommand)) }
        if let pollSeconds { configuration.archivePollInterval = ArgumentParsing.duration(seconds: pollSeconds) }
    }
}
