import Foundation
import SystemPackage
import Tranlog

/// The commit point of commitRestore (a promote, or `restore commit`): everything the new epoch is,
/// decided before it exists, and written into `restore.json` in the one atomic replace that ends
/// restore mode. Before that replace a restart finds the repository in restore mode exactly as it
/// was (the standby it was, or the manual restore); after it, a primary of this epoch. What comes
/// after (the epoch's first tranlog file with its epochBegin record, the epoch history) is
/// completion: derived from this record, idempotent, and redone at the next open if a crash
/// interrupted it.
///
/// It stays in `restore.json` while the repository is a primary by its own promotion:
/// `understudy standby` refuses such a directory, so a promoted node restarted by a service manager
/// with its old standby command line stays a primary instead of being turned back into a standby of
/// the node it replaced. Entering restore mode again replaces it.
public struct EpochCommit: Codable, Hashable, Sendable {
    public var epoch: Epoch
    public var parentEpoch: Epoch
    /// The last restored record: the new epoch continues it.
    public var restoredTo: AppliedPosition
    /// The epoch's first tranlog file, numbered above every fileId the directory has seen.
    public var fileID: FileID
    /// The epochBegin record's time (and the file header's), fixed here so completion writes the
    /// same record however often it is redone.
    public var time: Timestamp
    public var sourceID: SourceID
    /// `promote` or `restore commit`.
    public var by: String

    /// The epochBegin record's seqno.
    public var seqno: Seqno { restoredTo.seqno.next }

    var chainStart: ChainStart {
        ChainStart(fileID: fileID, epoch: epoch, previousLastSeqno: restoredTo.seqno, previousLastRecordCRC: restoredTo.recordCRC ?? 0)
    }

    var historyEntry: EpochEntry {
        EpochEntry(epoch: epoch, startSeqno: seqno, parentEpoch: parentEpoch, time: time, sourceID: sourceID)
    }
}

extension Repository {
    /// The commit of a directory that is a primary by its own promotion (and not in restore mode
    /// again since): what `understudy standby` refuses to demote. Nil for a directory that never
    /// opened an epoch itself.
    public static func promotion(of directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> EpochCommit? {
        let state = try RestoreStateStore.read(directory, fileSystem: fileSystem)
        return state.active ? nil : state.promoted
    }

    /// This repository's own promotion, if it is a primary by one.
    public var promotion: EpochCommit? {
        stateLock.withLock { restoreState.active ? nil : restoreState.promoted }
    }
}
