import Dispatch
import Logging
import SystemPackage
import Tranlog

/// Brings a data directory back to the exact state of its last durable record: the extents named
/// by MANIFEST, then every tranlog record after the checkpoint they contain.
enum Recovery {
    struct Recovered {
        /// Nil in restore mode, which writes no records.
        var writer: TranlogWriter?
        var manifest: Manifest
        var replay: LogReplay
    }

    static func run(
        directory: DataDirectory, config: DataDirectoryConfig, configuration: RepositoryConfiguration, restoreMode: Bool,
        fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(RepositoryError) -> Recovered {
        let clock = ContinuousClock()
        let started = clock.now
        var manifest = try readManifest(directory, config: config, fileSystem: fileSystem)
        removeLeftovers(in: directory.extents, keeping: manifest, fileSystem: fileSystem, logger: logger)
        let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        let loaded = try loadRuns(manifest, directory: directory, repositoryID: config.repositoryID, fileSystem: fileSystem)
        try checkDigest(of: loaded, against: manifest, directory: directory)
        let extentsLoaded = clock.now
        var replay = LogReplay(table: loaded, applied: manifest.checkpoint, history: history)
        var writer: TranlogWriter?
        if !restoreMode {
            let opened = try openWriter(directory: directory, config: config, configuration: configuration, fileSystem: fileSystem, logger: logger)
            do {
                try replayLocalLogs(&replay, directory: directory, manifest: manifest, config: config, fileSystem: fileSystem)
                guard replay.applied.seqno == opened.lastSeqno else {
                    throw RepositoryError.dataDirectory(
                        path: directory.root.string,
                        problem: "the tranlogs end at seqno \(opened.lastSeqno), but the checkpoint in MANIFEST is at seqno "
                            + "\(manifest.checkpoint.seqno): tranlogs were lost. Restore from a backup")
                }
                if replay.history != history {
                    // A crash after a new epoch's first record but before the epochs file was written.
                    do { try EpochHistoryStore.write(replay.history, to: directory.epochsFile, fileSystem: fileSystem) } catch { throw RepositoryError.tranlog(error) }
                }
            } catch {
                try? opened.close()
                throw error as! RepositoryError
            }
            writer = opened
        }
        if manifest.cleanShutdown {
            // From now on a crash must not look like a clean shutdown.
            manifest.cleanShutdown = false
            manifest.generation += 1
            try extentCall { () throws(ExtentError) in try ManifestStore.write(manifest, directory: directory.extents, fileSystem: fileSystem) }
        }
        logger.info(
            restoreMode ? "opened in restore mode" : "recovered",
            metadata: [
                "objects": "\(replay.table.count)", "seqno": "\(replay.applied.seqno)", "replayedRecords": "\(replay.records)",
                // Where a long start goes: loading the extents, or replaying the tranlogs after them.
                "seconds": "\(milliseconds(clock.now - started) / 1000)", "extentSeconds": "\(milliseconds(extentsLoaded - started) / 1000)",
            ])
        return Recovered(writer: writer, manifest: manifest, replay: replay)
    }

    /// The objects of every run MANIFEST names, a key's newest entry winning, in three stages on
    /// their own threads, each a few chunks ahead of the next: decoding the runs, making the objects
    /// (which hashes them for the content digest), and putting them into the table, the one stage
    /// that cannot be split. A base copy's standby spends most of its start here.
    static func loadRuns(
        _ manifest: Manifest, directory: DataDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem
    ) throws(RepositoryError) -> ObjectTable {
        let newestFirst = manifest.runs.reversed().map { directory.extents.appending($0.fileName) }
        let entries = WorkAhead<[LiveEntry], RepositoryError>(depth: 4, on: DispatchQueue(label: "understudy.extent-decode")) { emit throws(RepositoryError) in
            try decodeRuns(newestFirst, repositoryID: repositoryID, fileSystem: fileSystem, emit: emit)
        }
        let objects = WorkAhead<[(key: [UInt8], object: StoredObject)], RepositoryError>(depth: 4, on: DispatchQueue(label: "understudy.extent-hash")) {
            emit throws(RepositoryError) in
            while let chunk = try entries.next() {
                guard emit(chunk.map { ($0.key, StoredObject(key: $0.key, value: $0.value, seqno: $0.seqno)) }) else { return }
            }
        }
        var table = ObjectTable()
        while let chunk = try objects.next() {
            for loaded in chunk { table.load(loaded.key, loaded.object) }
        }
        return table
    }

    /// An extent entry that is not a tombstone.
    typealias LiveEntry = (key: [UInt8], value: [UInt8], seqno: Seqno)

    /// Merges the runs (newest first) by key, so that each key is decoded from every run but handed
    /// over once, from the newest run holding it; a tombstone there leaves the key out. The entries go
    /// out in key order, `loadChunk` at a time.
    private static func decodeRuns(
        _ newestFirst: [FilePath], repositoryID: RepositoryID, fileSystem: any TranlogFileSystem, emit: ([LiveEntry]) -> Bool
    ) throws(RepositoryError) {
        var merging = try extentCall { () throws(ExtentError) in
            try MergingCursor(newestFirst.map { path throws(ExtentError) in try ExtentRun.open(path, repositoryID: repositoryID, fileSystem: fileSystem) })
        }
        var chunk: [LiveEntry] = []
        chunk.reserveCapacity(loadChunk)
        while let entry = try extentCall({ () throws(ExtentError) in try merging.next() }) {
            guard let value = entry.value else { continue }
            chunk.append((entry.key, value, entry.seqno))
            guard chunk.count == loadChunk else { continue }
            guard emit(chunk) else { return }
            chunk.removeAll(keepingCapacity: true)
        }
        if !chunk.isEmpty { _ = emit(chunk) }
    }

    private static let loadChunk = 4096

    private static func milliseconds(_ duration: Duration) -> Double { (duration.inSeconds * 1000).rounded() }

    /// The runs must hold exactly what the checkpoint that named them wrote: every run can pass its
    /// own checks and still not be that (a run file replaced by another of the same name).
    private static func checkDigest(of table: ObjectTable, against manifest: Manifest, directory: DataDirectory) throws(RepositoryError) {
        guard let recorded = manifest.digest, recorded != table.digest else { return }
        throw .dataDirectory(
            path: directory.root.string,
            problem: "the extent runs MANIFEST names hold content digest \(table.digest), but the checkpoint at seqno "
                + "\(manifest.checkpoint.seqno) recorded \(recorded): an extent run is damaged or not the one that checkpoint "
                + "wrote. Restore the data directory from a backup (a standby: seed it again)")
    }

    private static func openWriter(
        directory: DataDirectory, config: DataDirectoryConfig, configuration: RepositoryConfiguration,
        fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(RepositoryError) -> TranlogWriter {
        let writer: TranlogWriter
        do { writer = try TranlogWriter(configuration: configuration.writerConfiguration(directory, config), fileSystem: fileSystem) } catch { throw .tranlog(error) }
        if let torn = writer.repairedTornTail {
            logger.warning("cut off a torn tranlog tail left by a crash", metadata: ["tranlog.fileID": "\(torn.fileID)", "torn": "\(torn)"])
        }
        return writer
    }

    /// Replays the node's own tranlogs after the checkpoint.
    private static func replayLocalLogs(
        _ replay: inout LogReplay, directory: DataDirectory, manifest: Manifest, config: DataDirectoryConfig,
        fileSystem: any TranlogFileSystem
    ) throws(RepositoryError) {
        let logs = try logsAfterCheckpoint(manifest, directory: directory, fileSystem: fileSystem)
        var cursor = TranlogCursor(directory: logs, fileSystem: fileSystem, expectedRepository: config.repositoryID)
        while let record = try tranlogCall({ () throws(TranlogError) in try cursor.next() }) {
            try replay.apply(record, from: record.eventID.fileID.fileName)
        }
    }

    /// The local tranlogs from the one holding the first record after the checkpoint: the file
    /// MANIFEST names, or, when that one is not here, a later file whose header continues the
    /// checkpoint's record exactly (a new epoch opened right after a restore from logs that were
    /// never copied here: nothing lies between the two).
    private static func logsAfterCheckpoint(
        _ manifest: Manifest, directory: DataDirectory, fileSystem: any TranlogFileSystem
    ) throws(RepositoryError) -> TranlogDirectory {
        let needed = manifest.oldestFileIDNeeded
        let logs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).starting(at: needed) }
        guard let first = logs.files.first else {
            throw .missingTranlog(needed: needed, directory: directory.tranlogs.string, detail: "there is none")
        }
        if first.fileID == needed { return logs }
        let checkpoint = manifest.checkpoint
        if !first.isCompressed, let crc = checkpoint.recordCRC {
            let bytes = try tranlogCall { () throws(TranlogError) in try fileSystem.read(first.path, at: 0, count: FileHeader.size) }
            if case .success(let header) = FileHeader.decode(bytes[...]), header.previousLastSeqno == checkpoint.seqno,
                header.previousLastRecordCRC == crc
            {
                return logs
            }
        }
        throw .missingTranlog(needed: needed, directory: directory.tranlogs.string, detail: "the oldest tranlog present is \(first.fileID.fileName)")
    }

    /// Removes what an interrupted checkpoint or merge left behind (see `leftovers`). Nothing
    /// MANIFEST names is ever touched.
    private static func removeLeftovers(
        in extents: FilePath, keeping manifest: Manifest, fileSystem: any TranlogFileSystem, logger: Logger
    ) {
        for name in leftovers(in: extents, keeping: manifest, fileSystem: fileSystem) {
            do {
                try fileSystem.removeFile(extents.appending(name))
                logger.notice("removed a file left by an interrupted checkpoint", metadata: ["path": "\(extents.appending(name))"])
            } catch {
                logger.warning("could not remove a leftover file", metadata: ["path": "\(extents.appending(name))", "error": "\(error)"])
            }
        }
    }

    /// Files in `extents/` that MANIFEST does not name: temporary files, and runs written but never
    /// switched to, or merged away but not yet removed.
    static func leftovers(in extents: FilePath, keeping manifest: Manifest, fileSystem: any TranlogFileSystem) -> [String] {
        let live = Set(manifest.runs.map(\.fileName))
        guard let names = try? fileSystem.contentsOfDirectory(extents) else { return [] }
        return names.sorted().filter { name in
            !live.contains(name) && (name.hasSuffix(".tmp") || ExtentRunSummary.generation(fileName: name) != nil)
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
}

/// Runs a tranlog operation, wrapping its error for the repository.
func tranlogCall<Value>(_ body: () throws(TranlogError) -> Value) throws(RepositoryError) -> Value {
    do { return try body() } catch { throw .tranlog(error) }
}

/// Runs an extents operation, wrapping its error for the repository.
func extentCall<Value>(_ body: () throws(ExtentError) -> Value) throws(RepositoryError) -> Value {
    do { return try body() } catch { throw .extent(error) }
}
