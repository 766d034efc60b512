import Foundation
import Repository
import Tranlog
import SystemPackage
import Transport

/// Builds `NodeStatus`: the repository's status plus what the node knows about itself.
final class StatusReporter: Sendable {
    private let repository: Repository
    private let replication: NodeReplication
    private let archive: ArchiveService?
    private let baseCopy: BaseCopyStatus?
    private let cluster: (@Sendable () -> ClusterMembershipStatus)?
    private let dataDirectory: String
    private let startedAt = ContinuousClock.now
    /// The configured address until the HTTP server is bound, then the real one (port 0 resolved).
    private let boundHTTPAddress: Locked<SocketAddress>

    init(repository: Repository, httpAddress: SocketAddress, replication: NodeReplication,
         archive: ArchiveService? = nil, baseCopy: BaseCopyStatus? = nil, cluster: (@Sendable () -> ClusterMembershipStatus)? = nil) {
        self.baseCopy = baseCopy
        self.cluster = cluster
        self.repository = repository
        self.replication = replication
        self.archive = archive
        // Absolute, so a client in another working directory finds it.
        let root = repository.directory.root
        dataDirectory = root.isAbsolute ? root.string : FilePath(FileManager.default.currentDirectoryPath).pushing(root).string
        boundHTTPAddress = Locked(httpAddress)
    }

    var httpAddress: SocketAddress { boundHTTPAddress.withLock { $0 } }

    func bound(to address: SocketAddress) {
        boundHTTPAddress.withLock { $0 = address }
    }

    var status: NodeStatus {
        let repositoryStatus = repository.status
        let time = Timestamp.now()
        var status = NodeStatus(
            role: NodeRole.of(repository, following: replication.following(repository) != nil).rawValue, version: UnderstudyVersion.current,
            httpAddress: "\(httpAddress)", replicationAddress: nil,
            uptimeSeconds: (ContinuousClock.now - startedAt).inSeconds, time: time, dataDirectory: dataDirectory,
            restoreStatus: repositoryStatus.restoreStatus, repository: repositoryStatus, standbys: nil, replication: nil)
        // How this standby's directory was made; a promoted node is no standby any more.
        status.baseCopy = repositoryStatus.restoring ? baseCopy : nil
        status.fenced = repository.fence.map(FenceStatus.init)
        replication.describe(into: &status)
        status.archive = archive?.status
        status.cluster = cluster?()
        return status
    }
}
