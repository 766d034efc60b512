import Logging
import Replication
import SystemPackage
import Tranlog
import Transport
import TransportUV

/// One attempt at receiving a base copy into `receipt`, on the base copy's own event loop (the node's
/// does not exist yet: the repository it would serve is what is being copied).
enum BaseCopyDownload {
    /// Blocks until the copy is received and checked (each chunk's CRC, each file's size and SHA-256,
    /// the primary's proof), failed, or `stopRequested` (polled) says to give up. `cutAfterBytes`
    /// (tests only) drops the connection once that many bytes are held, as a network cut would.
    static func run(
        from primary: SocketAddress, on loop: UVEventLoop, key: ReplicationKey, sourceID: SourceID, into receipt: BaseCopyReceipt,
        progress: BaseCopyProgress, cutAfterBytes: UInt64?, stopRequested: @Sendable () -> Bool, logger: Logger
    ) throws(BaseCopyFailure) -> BaseCopyEnd {
        let outcome = Locked<Result<BaseCopyEnd, BaseCopyFailure>?>(nil)
        let holder = ClientHolder()
        loop.execute {
            let client = BaseCopyClient(
                loop: loop, key: key, sourceID: sourceID, receipt: receipt, logger: logger,
                onProgress: { received in
                    progress.received(received)
                    if let cutAfterBytes, received.receivedBytes >= cutAfterBytes {
                        holder.client?.cancel("cut by UNDERSTUDY_TEST_BASE_COPY_CUT_AFTER_BYTES after \(received.receivedBytes) bytes")
                    }
                }, completion: { result in outcome.withLockNotifying { $0 = result } })
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
