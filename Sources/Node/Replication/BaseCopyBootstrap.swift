import Foundation
import Logging
import Replication
import Repository
import SystemPackage
import Tranlog
import Transport
import TransportUV

/// `understudy standby` on a missing or empty data directory: copies a consistent base from the
/// primary over the replication port (like pg_basebackup), then the node starts streaming from the
/// base's position + 1 as after any restore.
///
/// Everything happens in `DIR.base-copy-in-progress` beside DIR; DIR appears only by the final rename,
/// whole. A lost connection is retried after a backoff and resumes from the bytes received, when the
/// primary still holds the copy's pin (otherwise the copy starts over, and the log says why); a
/// failure retrying cannot fix (wrong key, a copy that does not verify, a full disk here) wipes the
/// staging directory and fails the start. A standby restarted mid-copy starts over.
struct BaseCopyBootstrap {
    let directory: DataDirectory
    let primary: SocketAddress
    let key: ReplicationKey
    /// `standby --source-id`; nil: `HOST-standby-<hex>`.
    let sourceID: SourceID?
    let http: HTTPServerConfiguration
    /// TLS on the status server and on the connection to the primary; nil for plain TCP.
    let tls: TLSContext?
    let stopRequested: @Sendable () -> Bool
    let fileSystem: any TranlogFileSystem
    let logger: Logger

    static let stagingSuffix = ".base-copy-in-progress"
    static let maxRetryDelay = Duration.seconds(30)

    var staging: FilePath { FilePath(directory.root.string + Self.stagingSuffix) }

    /// Nil when DIR already holds a repository; otherwise, once DIR holds the primary's, the copy's
    /// status and the HTTP address its status server had (the node serves on the same port).
    func runIfNeeded() throws(NodeError) -> (status: BaseCopyStatus, httpAddress: SocketAddress)? {
        switch try Self.contents(of: directory.root, fileSystem: fileSystem) {
        case .repository: return nil
        case .empty: break
        }
        logger.notice("no repository in \(directory.root): copying a base from the primary", metadata: ["primary": "\(primary)"])
        let loop: UVEventLoop
        do { loop = try UVEventLoop(tls: tls, threadName: "base-copy-loop", logger: logger) } catch { throw .http(error) }
        loop.execute { LoopThreadFiles.forbid(onThisThread: "base-copy-loop") }
        defer { loop.shutdown() }
        let progress = BaseCopyProgress(logger: logger)
        let server = try BaseCopyStatusServer.start(
            on: loop, configuration: http, dataDirectory: Self.absolute(directory.root), progress: progress, logger: logger)
        defer { server.close(on: loop) }
        logger.notice("serving GET /status during the base copy: http=\(server.address)")
        return (try copy(on: loop, progress: progress), server.address)
    }

    private func copy(on loop: UVEventLoop, progress: BaseCopyProgress) throws(NodeError) -> BaseCopyStatus {
        let sourceID = self.sourceID ?? Self.standbySourceID()
        var receipt: BaseCopyReceipt?
        var delay = Duration.milliseconds(500)
        // The same failure on every attempt (a wrong --primary, say) is logged once, then once a minute.
        var repeated = RepeatedMessageLimiter()
        let started = ContinuousClock.now
        while true {
            progress.attemptStarted()
            do throws(BaseCopyFailure) {
                let copied = try attempt(on: loop, sourceID: sourceID, progress: progress, receipt: &receipt)
                removeStaging()
                logger.notice(
                    "base copy installed; the standby replays the copied tranlogs, then streams", metadata: ["sourceID": "\(sourceID)", "position": "\(copied)"])
                return progress.finished(restoredSeqno: copied.seqno.rawValue)
            } catch {
                // What a lost connection left is resumed; anything else starts over.
                if !Self.resumable(error) || stopRequested() {
                    removeStaging()
                    receipt = nil
                }
                guard error.isRetryable, !stopRequested() else { throw .baseCopy(error, directory: directory.root.string) }
                if let line = repeated.line(for: error.description, now: started.duration(to: .now)) {
                    logger.error("\(line); retrying in \(delay)")
                }
                progress.entered(.waitingToRetry, lastError: error.description)
                guard waitOrStop(delay) else { throw .baseCopy(error, directory: directory.root.string) }
                delay = min(delay * 2, Self.maxRetryDelay)
            }
        }
    }

    /// Receives into `receipt` (made, with a fresh staging directory, when nil), then installs.
    private func attempt(
        on loop: UVEventLoop, sourceID: SourceID, progress: BaseCopyProgress, receipt: inout BaseCopyReceipt?
    ) throws(BaseCopyFailure) -> LogPosition {
        if receipt == nil {
            removeStaging()
            do { try fileSystem.createDirectory(staging) } catch {
                throw .storage("cannot create \(staging): \(error)")
            }
            receipt = BaseCopyReceipt(directory: BaseCopyInstall.built(in: staging), fileSystem: fileSystem)
        }
        // Only the first attempt is cut: the next one shows the resume.
        let cut = progress.status.attempts == 1 ? Self.testCutAfterBytes : nil
        let end = try BaseCopyDownload.run(
            from: primary, on: loop, key: key, sourceID: sourceID, into: receipt!, progress: progress, cutAfterBytes: cut,
            stopRequested: stopRequested, logger: logger)
        progress.entered(.verifying)
        try BaseCopyInstall(staging: staging, target: directory, sourceID: sourceID, fileSystem: fileSystem, logger: logger).run(end: end)
        return end.position
    }

    private static func resumable(_ failure: BaseCopyFailure) -> Bool {
        if case .connectionLost = failure { return true }
        return false
    }

    /// `UNDERSTUDY_TEST_BASE_COPY_CUT_AFTER_BYTES`: tests cut the first attempt's connection there to
    /// see it resume. Operators never set it.
    private static var testCutAfterBytes: UInt64? {
        ProcessInfo.processInfo.environment["UNDERSTUDY_TEST_BASE_COPY_CUT_AFTER_BYTES"].flatMap(UInt64.init)
    }

    private func removeStaging() {
        guard fileSystem.fileExists(staging) else { return }
        do { try fileSystem.removeTree(staging) } catch {
            logger.error("cannot remove \(staging): \(error); remove it by hand")
        }
    }

    /// Sleeps `delay` in short steps; false when a stop was requested meanwhile.
    private func waitOrStop(_ delay: Duration) -> Bool {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            if stopRequested() { return false }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return !stopRequested()
    }

    private enum Contents {
        case repository
        case empty
    }

    /// A directory holding `understudy.json` is a repository; a missing or empty one gets a base
    /// copy; anything else is refused, naming what is in it, so that nothing of the operator's is
    /// ever replaced.
    private static func contents(of root: FilePath, fileSystem: any TranlogFileSystem) throws(NodeError) -> Contents {
        let names: [String]
        do { names = try fileSystem.contentsOfDirectory(root).sorted() } catch {
            guard fileSystem.fileExists(root) else { return .empty }
            throw .invalidConfiguration("cannot read \(root): \(error)")
        }
        if names.contains(DataDirectory(root).configFile.lastComponent!.string) { return .repository }
        guard let first = names.first else { return .empty }
        throw .invalidConfiguration(
            "\(root) is not empty (it holds \(root.appending(first))) but holds no repository (no understudy.json): "
                + "give a standby an empty or missing directory to copy a base into, or a copy of the primary's repository")
    }

    private static func absolute(_ path: FilePath) -> String {
        path.isAbsolute ? path.string : FilePath(FileManager.default.currentDirectoryPath).pushing(path).string
    }

    /// The standby writes its own name into records once promoted: not the primary's.
    private static func standbySourceID() -> SourceID {
        let host = String(ProcessInfo.processInfo.hostName.prefix(200))
        let suffix = String(UInt32.random(in: .min ... .max), radix: 16)
        return SourceID("\(host)-standby-\(suffix)") ?? SourceID("standby-\(suffix)")!
    }
}

extension UnderstudyNode {
    /// A standby on a missing or empty directory gets a base copy first; nil otherwise. The node
    /// then serves HTTP on the port the copy's status server had (the same one when 0 was asked for).
    static func copyBaseIfNeeded(
        _ configuration: inout NodeConfiguration, key: ReplicationKey?, tls: TLSContext?, logger: Logger
    ) throws(NodeError) -> BaseCopyStatus? {
        guard let primary = configuration.standbyOf, let key else { return nil }
        let copied = try BaseCopyBootstrap(
            directory: configuration.dataDirectory, primary: primary, key: key, sourceID: configuration.standbySourceID,
            http: configuration.http, tls: tls, stopRequested: configuration.stopRequested, fileSystem: configuration.fileSystem, logger: logger
        ).runIfNeeded()
        guard let copied else { return nil }
        configuration.httpAddress = copied.httpAddress
        return copied.status
    }
}
