import SystemPackage
import Tranlog

/// The manual's page audit and object audit, for recovering from file-system problems: reads every
/// file of a data directory, every block and every record, and reports every problem it finds
/// instead of stopping at the first, so an operator sees the whole extent of the damage before
/// choosing between a restore and trying the repository as it is.
///
/// Reads only; run it with the node stopped (or on a copy): a running node replaces MANIFEST and
/// removes merged runs, which the audit would see as damage.
public struct Audit {
    private let directory: DataDirectory
    private let fileSystem: any TranlogFileSystem
    private var findings = AuditFindings()
    private var counts = AuditCounts()

    /// Audits the repository in `directory`. Throws only when there is no repository to audit.
    public static func run(
        _ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(RepositoryError) -> AuditReport {
        var audit = Audit(directory: directory, fileSystem: fileSystem)
        return try audit.run()
    }

    private init(directory: DataDirectory, fileSystem: any TranlogFileSystem) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    private mutating func run() throws(RepositoryError) -> AuditReport {
        let config = try readConfig()
        let history = readEpochHistory()
        let restoring = readRestoreState()?.active ?? false
        let manifest = readManifest(config: config)
        // Without understudy.json, MANIFEST's own id is the best guess at whose files these are.
        let repositoryID = config?.repositoryID ?? manifest?.repositoryID
        let logs = TranlogAudit(directory: directory, repositoryID: repositoryID, fileSystem: fileSystem)
            .audit(&findings, &counts)
        if let manifest {
            let extents = ExtentAudit(directory: directory, repositoryID: manifest.repositoryID, fileSystem: fileSystem)
                .audit(manifest, &findings, &counts)
            counts.objects = extents.table.count
            ObjectAudit(directory: directory, manifest: manifest, fileSystem: fileSystem)
                .audit(extents: extents, history: history, logs: logs, restoring: restoring, &findings)
        }
        return AuditReport(dataDirectory: directory.root.string, findings: findings, counts: counts, checkpoint: manifest?.checkpoint)
    }

    /// `understudy.json`; a missing one means there is no repository here, which is the one thing
    /// the audit refuses. A damaged one is a problem like any other.
    private mutating func readConfig() throws(RepositoryError) -> DataDirectoryConfig? {
        do {
            return try directory.readConfig(fileSystem: fileSystem)
        } catch where !fileSystem.fileExists(directory.configFile) {
            throw error
        } catch {
            findings.problem(.page, file: directory.configFile.string, error.description)
            return nil
        }
    }

    private mutating func readEpochHistory() -> EpochHistory? {
        do {
            return try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        } catch {
            findings.problem(.page, file: directory.epochsFile.string, error.description)
            return nil
        }
    }

    private mutating func readRestoreState() -> RestoreState? {
        do {
            return try RestoreStateStore.read(directory, fileSystem: fileSystem)
        } catch {
            findings.problem(.page, file: directory.restoreStateFile.string, error.description)
            return nil
        }
    }

    /// MANIFEST, checked against the repository in understudy.json when that could be read.
    private mutating func readManifest(config: DataDirectoryConfig?) -> Manifest? {
        let file = directory.extents.appending(ManifestStore.fileName).string
        do throws(RepositoryError) {
            if let config { return try Recovery.readManifest(directory, config: config, fileSystem: fileSystem) }
            if let manifest = try extentCall({ () throws(ExtentError) in
                try ManifestStore.read(directory: directory.extents, fileSystem: fileSystem)
            }) {
                return manifest
            }
            findings.problem(.page, file: file, "MANIFEST is missing")
        } catch {
            let offset: UInt64? = if case .extent(let extentError) = error { extentError.auditOffset } else { nil }
            findings.problem(.page, file: file, offset: offset, error.description)
        }
        return nil
    }
}

extension ExtentError {
    /// The byte offset this error names, for the audit report.
    var auditOffset: UInt64? {
        switch self {
        case .corrupt(_, _, let offset, _): UInt64(offset)
        case .truncated(_, let byteCount): UInt64(byteCount)
        case .notAnExtentRun, .unsupportedVersion, .otherRepository, .misnamedRun, .corruptManifest, .unsupportedManifestVersion, .io:
            nil
        }
    }
}
