import Dispatch
import Logging
import Replication
import Repository
import Tranlog
import Transport

/// The primary's base copies: a checkpoint pin of the repository (`Repository.pinCheckpoint`) whose
/// files are read in place, nothing staged. A copy that is cut keeps its pin for `resumeWindow`, so
/// that its standby, reconnecting, gets only the rest; then the pin is released (checkpoints go on).
final class RepositoryBaseCopySource: BaseCopySource, @unchecked Sendable {
    private struct Held {
        var pin: BaseCopyPin
        var checkpointPin: CheckpointPin
        /// A copy is sending it; else it waits for a resume until `generation` changes or it lapses.
        var inUse: Bool
        var generation: Int
    }

    private let repository: Repository
    private let fileSystem: any TranlogFileSystem
    private let resumeWindow: Duration
    private let logger: Logger
    private let held = Locked<[[UInt8]: Held]>([:])

    init(repository: Repository, resumeWindow: Duration, logger: Logger) {
        self.repository = repository
        fileSystem = repository.fileSystem
        self.resumeWindow = resumeWindow
        self.logger = logger
    }

    /// Pins held (in use or waiting for a resume), for tests and status.
    var pinCount: Int { held.withLock { $0.count } }

    func pin(for standby: SourceID, resuming: [UInt8]?) -> Result<BaseCopyPin, RejectReason> {
        if let resuming, let pin = takeBack(resuming) { return .success(pin) }
        do {
            let checkpointPin = try repository.pinCheckpoint()
            let position = LogPosition(epoch: checkpointPin.position.epoch, seqno: checkpointPin.position.seqno)
            let pin = BaseCopyPin(
                id: BaseCopyProof.makePinID(), repositoryID: checkpointPin.repositoryID, position: position,
                files: checkpointPin.files.map { BaseCopyFile(path: $0.path, size: $0.size) })
            held.withLock { $0[pin.id] = Held(pin: pin, checkpointPin: checkpointPin, inUse: true, generation: 0) }
            return .success(pin)
        } catch {
            return .failure(.baseCopyFailed(detail: "cannot pin a checkpoint for \(standby): \(error)"))
        }
    }

    func read(_ pin: BaseCopyPin, file index: Int, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
        try fileSystem.read(repository.directory.root.appending(pin.files[index].path), at: offset, count: count)
    }

    func release(_ pin: BaseCopyPin, completed: Bool) {
        guard !completed else { return unpin(pin.id, why: "the copy ended") }
        let generation = held.withLock { held -> Int? in
            guard var entry = held[pin.id] else { return nil }
            entry.inUse = false
            entry.generation += 1
            held[pin.id] = entry
            return entry.generation
        }
        guard let generation else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(resumeWindow / .milliseconds(1)))) { [self] in
            let lapsed = held.withLock { $0[pin.id].map { !$0.inUse && $0.generation == generation } ?? false }
            if lapsed { unpin(pin.id, why: "no standby resumed it within \(resumeWindow)") }
        }
    }

    /// The pin a resuming standby names, when held and idle.
    private func takeBack(_ id: [UInt8]) -> BaseCopyPin? {
        held.withLock { held in
            guard var entry = held[id], !entry.inUse else { return nil }
            entry.inUse = true
            held[id] = entry
            return entry.pin
        }
    }

    private func unpin(_ id: [UInt8], why: String) {
        guard let entry = held.withLock({ $0.removeValue(forKey: id) }) else { return }
        entry.checkpointPin.release()
        logger.notice("base copy pin released: \(why)", metadata: ["position": "\(entry.pin.position)"])
    }
}
