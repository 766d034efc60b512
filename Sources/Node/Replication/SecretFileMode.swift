import Foundation
import SystemPackage
import Tranlog

/// Key and token files readable by others are refused at start, as ssh refuses a private key and
/// PostgreSQL its server key: a secret any local user can read authenticates nothing. Group-readable
/// (0640) is allowed only with `--allow-group-readable-secrets`, for a file a systemd unit's group
/// reads; readable, writable or executable by others is refused always, and so is group-writable.
enum SecretFileMode {
    /// Throws unless `path`'s mode allows only its owner (and, with `allowGroupReadable`, its group to read).
    static func check(_ path: FilePath, what: String, allowGroupReadable: Bool) throws(NodeError) {
        var info = stat()
        guard stat(path.string, &info) == 0 else {
            throw .invalidConfiguration("cannot read the \(what) \(path): \(String(cString: strerror(errno)))")
        }
        let mode = Int(info.st_mode) & 0o777
        if let problem = problem(mode: mode, path: path, what: what, allowGroupReadable: allowGroupReadable) {
            throw .invalidConfiguration(problem)
        }
    }

    /// Nil when `mode` is allowed, else what to tell the operator, with the command that fixes it.
    static func problem(mode: Int, path: FilePath, what: String, allowGroupReadable: Bool) -> String? {
        let octal = "0" + String(mode, radix: 8)
        if mode & 0o077 == 0 { return nil }
        if allowGroupReadable && mode & 0o037 == 0 { return nil }
        if allowGroupReadable {
            return "the \(what) \(path) has mode \(octal): with --allow-group-readable-secrets its group may read it, "
                + "nobody else may; run `chmod 640 \(path)` (or `chmod 600 \(path)`)"
        }
        return "the \(what) \(path) has mode \(octal): a secret must be readable by its owner only; run `chmod 600 \(path)` "
            + "(or, if a service's group must read it, `chmod 640 \(path)` and start with --allow-group-readable-secrets)"
    }
}

extension SecretFileMode {
    /// The node's replication key files and TLS key, checked before any is read.
    static func checkKeyFiles(_ configuration: NodeConfiguration) throws(NodeError) {
        for path in configuration.replicationKeyFiles {
            try check(path, what: "replication key file", allowGroupReadable: configuration.allowGroupReadableSecrets)
        }
        if let key = configuration.tls?.keyFile {
            try check(FilePath(key), what: "TLS key file", allowGroupReadable: configuration.allowGroupReadableSecrets)
        }
    }

    /// DATA/admin.token, when it exists (a missing one is `AdminToken.read`'s error, naming the
    /// directory) and lives on the real disk: a simulated file system's files have no modes.
    static func checkAdminToken(_ configuration: NodeConfiguration) throws(NodeError) {
        let path = configuration.dataDirectory.adminTokenFile
        guard configuration.fileSystem is PosixFileSystem, configuration.fileSystem.fileExists(path) else { return }
        try check(path, what: "admin token file", allowGroupReadable: configuration.allowGroupReadableSecrets)
    }
}

extension NodeConfiguration {
    /// The replication key files' modes and contents, checked the way a starting node checks them.
    /// `understudy join` calls it before its supervisor starts: a bad key file is the operator's to fix,
    /// and no later start of the node could succeed with it.
    public func checkReplicationKeyFiles() throws(NodeError) {
        try SecretFileMode.checkKeyFiles(self)
        _ = try ReplicationKeyFile.read(replicationKeyFiles)
    }
}
