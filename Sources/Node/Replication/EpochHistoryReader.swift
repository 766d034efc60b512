import Logging
import Repository
import Transport
import Tranlog

/// The node's epoch history for the replication handshakes, which both sides need fresh (a restore
/// commit or an applied epoch change adds an entry). Read once up front, since a node without a
/// history cannot replicate, then on every call; a failed re-read keeps the last good one and logs.
enum EpochHistoryReader {
    static func make(_ directory: DataDirectory, fileSystem: any TranlogFileSystem, logger: Logger) throws(NodeError) -> @Sendable () -> EpochHistory {
        let lastGood: Locked<EpochHistory>
        do { lastGood = Locked(try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)) } catch { throw .repository(error) }
        return {
            do {
                let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
                lastGood.withLock { $0 = history }
                return history
            } catch {
                logger.error("cannot re-read the epoch history; using the last one read", metadata: ["error": "\(error)"])
                return lastGood.withLock { $0 }
            }
        }
    }
}
