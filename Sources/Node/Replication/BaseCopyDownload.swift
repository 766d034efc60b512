import Logging
import Replication
import SystemPackage
import Tranlog
import Transport
import TransportUV

/// One attempt at receiving a base copy into a file, on the base copy's own event loop (the node's
/// does not exist yet: the repository it would serve is what is being copied).
enum BaseCopyDownload {
    /// Blocks until the copy is received and checked (size, CRC, SHA-256, the primary's proof), failed,
    /// or `stopRequested` (polled) says to give up.
    static func run(
        from primary: SocketAddress, on loop: UVEventLoop, key: ReplicationKey, sourceID: SourceID, into file: FilePath,
        fileSystem: any TranlogFileSystem, progress: BaseCopyProgress, stopRequested: @Sendable () -> Bool, logger: Logger
    ) throws(BaseCopyFailure) -> BaseCopyEnd {
        let outcome = Locked<Result<BaseCopyEnd, BaseCopyFailure>?>(nil)
        let holder = ClientHolder()
        loop.execute {
            let client = BaseCopyClient(
                loop: loop, key: key, sourceID: sourceID, file: file, fileSystem: fileSystem, logger: logger,
                onProgress: { progress.received($0) }, completion: { result in outcome.withLockNotifying { $0 = result } })
            holder.client = client
            client.start(host: primary.host, port: primary.port)
        }
        while !outcome.wait(timeout: .milliseconds(200), until: { $0 != nil }) {
            if stopRequested() { loop.execute { holder.client?.cancel("the standby is stopping") } }
        }
        loop.execute { holder.client = nil }
        return try outcome.withLock { $0! }.get()
    }
}

/// The client, kept alive on its loop; touched only there.
private final class ClientHolder: @unchecked Sendable {
    var client: BaseCopyClient?
}
