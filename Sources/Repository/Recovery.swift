import Logging
import SystemPackage
import Tranlog

/// Brings a data directory back to the exact state of its last durable record: the extents named
/// by MANIFEST, then every tranlog record after the checkpoint they contain.
enum Recovery {
    struct Recovered {
        var writer: TranlogWriter
        var manifest: Manifest
        var table: ObjectTable
        var applied: AppliedPosition
        var dirty: [[UInt8]: Seqno]
        var replayedBytes: Int
    }

    static func run(
        directory: DataDirectory, config: DataDirectoryConfig, configuration: RepositoryConfiguration,
        fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(RepositoryError) -> Recovered {
        var manifest = try readManifest(directory, config: config, fileSystem: fileSystem)
        removeLeftovers(in: directory.extents, keeping: manifest, fileSystem: fileSystem, logger: logger)
        var table = ObjectTable()
        for run in manifest.runs {
            let opened = try extentCall { () throws(ExtentError) in
                try ExtentRun.open(directory.extents.appending(run.fileName), repositoryID: config.repositoryID, fileSystem: fileSystem)
            }
            for entry in try extentCall({ () throws(ExtentError) in try opened.entries() }) { table.load(entry) }
        }
        var writerConfiguration = TranlogWriterConfiguration(directory: directory.tranlogs, repositoryID: config.repositoryID, sourceID: config.sourceID)
        writerConfiguration.rotationBytes = configuration.rotationBytes
        let writer: TranlogWriter
        do { writer = try TranlogWriter(configuration: writerConfiguration, fileSystem: fileSystem) } catch { throw .tranlog(error) }
        if let torn = writer.repairedTornTail {
            logger.warning("cut off a torn tranlog tail left by a crash", metadata: ["tranlog.fileID": "\(torn.fileID)", "torn": "\(torn)"])
        }
        var replay = Replay(table: table, checkpoint: manifest.checkpoint)
        do {
            try replay.run(directory: directory, manifest: manifest, config: config, fileSystem: fileSystem)
        } catch {
            try? writer.close()
            throw error
        }
        guard replay.applied.seqno == writer.lastSeqno else {
            try? writer.close()
            throw .dataDirectory(
                path: directory.root.string,
                problem: "the tranlogs end at seqno \(writer.lastSeqno), but the checkpoint in MANIFEST is at seqno "
                    + "\(manifest.checkpoint.seqno): tranlogs were lost. Restore from a backup")
        }
        table = replay.table
        if manifest.cleanShutdown {
            // From now on a crash must not look like a clean shutdown.
            manifest.cleanShutdown = false
            manifest.generation += 1
            try extentCall { () throws(ExtentError) in try ManifestStore.write(manifest, directory: directory.extents, fileSystem: fileSystem) }
        }
        logger.info(
            "recovered", metadata: ["objects": "\(table.count)", "seqno": "\(replay.applied.seqno)", "replayedRecords": "\(replay.records)"])
        return Recovered(
            writer: writer, manifest: manifest, table: table, applied: replay.applied, dirty: replay.dirty,
            replayedBytes: replay.bytes)
    }

    /// Removes what an interrupted checkpoint or merge left behind: temporary files, and runs that
    /// MANIFEST does not name (written but never switched to, or merged away but not yet removed).
    /// Nothing MANIFEST names is ever touched.
    private static func removeLeftovers(
        in extents: FilePath, keeping manifest: Manifest, fileSystem: any TranlogFileSystem, logger: Logger
    ) {
        let live = Set(manifest.runs.map(\.fileName))
        guard let names = try? fileSystem.contentsOfDirectory(extents) else { return }
        for name in names where !live.contains(name)
            && (name.hasSuffix(".tmp") || ExtentRunSummary.generation(fileName: name) != nil)
        {
            do {
                try fileSystem.removeFile(extents.appending(name))
                logger.notice("removed a file left by an interrupted checkpoint", metadata: ["path": "\(extents.appending(name))"])
            } catch {
                logger.warning("could not remove a leftover file", metadata: ["path": "\(extents.appending(name))", "error": "\(error)"])
            }
        }
    }

    static func readManifest(
        _ directory: DataDirectory, config: DataDirectoryConfig, fileSystem: any TranlogFileSystem
    ) throws(RepositoryError) -> Manifest {
        guard let manifest = try extentCall({ () throws(ExtentError) in try ManifestStore.read(directory: directory.extents, fileSystem: fileSystem) }) else {
            throw .dataDirectory(path: directory.root.string, problem: "extents/MANIFEST is missing; restore the data directory from a backup")
        }
        guard manifest.repositoryID == config.repositoryID else {
            throw .dataDirectory(
                path: directory.root.string,
                problem: "extents/MANIFEST belongs to repository \(manifest.repositoryID), not \(config.repositoryID)")
        }
        return manifest
    }

    /// Applies the tranlog records after the checkpoint to the table loaded from the extents.
    struct Replay {
        var table: ObjectTable
        var applied: AppliedPosition
        var dirty: [[UInt8]: Seqno] = [:]
        var bytes = 0
        var records = 0

        init(table: ObjectTable, checkpoint: CheckpointPosition) {
            self.table = table
            applied = AppliedPosition(
                seqno: checkpoint.seqno, epoch: checkpoint.epoch, eventID: checkpoint.eventID, time: checkpoint.time,
                sourceID: checkpoint.sourceID)
        }

        mutating func run(
            directory: DataDirectory, manifest: Manifest, config: DataDirectoryConfig, fileSystem: any TranlogFileSystem
        ) throws(RepositoryError) {
            let needed = manifest.oldestFileIDNeeded
            let logs: TranlogDirectory
            do { logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).starting(at: needed) } catch { throw .tranlog(error) }
            guard logs.files.first?.fileID == needed else {
                throw .missingTranlog(
                    needed: needed, directory: directory.tranlogs.string,
                    detail: logs.files.first.map { "the oldest tranlog present is \($0.fileID.fileName)" } ?? "there is none")
            }
            var cursor = TranlogCursor(directory: logs, fileSystem: fileSystem, expectedRepository: config.repositoryID)
            do {
                while let record = try cursor.next() { try apply(record, logs: logs) }
            } catch let error as RepositoryError {
                throw error
            } catch let error as TranlogError {
                throw .tranlog(error)
            } catch {
                preconditionFailure("unexpected error \(error)")
            }
        }

        private mutating func apply(_ record: TranlogRecord, logs: TranlogDirectory) throws(RepositoryError) {
            guard record.seqno > applied.seqno else { return }
            guard record.seqno == applied.seqno.next else {
                throw .missingTranlog(
                    needed: record.eventID.fileID, directory: logs.description,
                    detail: "its records continue at seqno \(record.seqno) while the checkpoint ends at seqno \(applied.seqno)")
            }
            if case .commit(let operations) = record.body {
                table.apply(operations, seqno: record.seqno)
                for operation in operations { dirty[operation.key] = record.seqno }
            }
            applied = AppliedPosition(
                seqno: record.seqno, epoch: record.header.epoch, eventID: record.eventID, time: record.header.time,
                sourceID: record.header.sourceID)
            bytes += record.frameLength
            records += 1
        }
    }
}

/// Runs an extents operation, wrapping its error for the repository.
func extentCall<Value>(_ body: () throws(ExtentError) -> Value) throws(RepositoryError) -> Value {
    do { return try body() } catch { throw .extent(error) }
}
