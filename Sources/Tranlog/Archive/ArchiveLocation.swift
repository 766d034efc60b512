import SystemPackage

/// Where an archive is: the built-in directory, or an operator's command (PostgreSQL's
/// `archive_command` / `restore_command`). Archiving (`--archive-dir` or `--archive-command`, e.g.
/// `aws s3 cp %p s3://bucket/prefix/%f`) writes completed tranlogs there; a warm standby and
/// `restore logs` (`--archive DIR` or `--restore-command`) read them back. A directory holds plain or
/// `.gz` files; a command gets or must deliver the plain file: `%f` is its name, `tranlogN.dbf`, `%p`
/// the path to read it from or write it to, and exit 0 means done (for a restore command, anything
/// else means "not there (yet)").
public enum ArchiveLocation: Sendable, CustomStringConvertible {
    case directory(FilePath)
    case command(ArchiveCommand)

    public var description: String {
        switch self {
        case .directory(let path): path.string
        case .command(let command): command.template
        }
    }
}
