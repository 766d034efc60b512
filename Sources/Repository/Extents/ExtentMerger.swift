import SystemPackage
import Tranlog

/// Merges runs into one new run, verifying every block of every input on the way.
public enum ExtentMerger {
    /// `runs` are newest first: for a key in several runs, the newest run's entry wins. Tombstones
    /// are kept unless `dropTombstones`, which is only correct when `runs` are every run of the
    /// repository (nothing older is left for a tombstone to shadow). The new run is written like
    /// `ExtentRunWriter.write`'s.
    public static func merge(
        _ runs: [ExtentRun], generation: UInt64, dropTombstones: Bool, repositoryID: RepositoryID, to path: FilePath,
        fileSystem: any TranlogFileSystem
    ) throws(ExtentError) -> ExtentRunSummary {
        var merging = try MergingCursor(runs)
        return try ExtentRunBuilder.build(generation: generation, repositoryID: repositoryID, to: path, fileSystem: fileSystem) {
            (builder: inout ExtentRunBuilder) throws(ExtentError) in
            while let entry = try merging.next() {
                if dropTombstones && entry.isTombstone { continue }
                try builder.add(entry)
            }
        }
    }
}

/// The smallest key among the runs' cursors, taken from the newest run holding it; every other
/// run's entry for that key is skipped (merges, and loading the runs at recovery). Runs are few (a
/// merge happens when there are "too many"), so a linear scan of the heads beats a heap.
struct MergingCursor {
    private var cursors: [ExtentRunCursor]
    private var heads: [ExtentEntry?] = []

    init(_ runs: [ExtentRun]) throws(ExtentError) {
        cursors = runs.map { $0.makeCursor() }
        for index in cursors.indices { heads.append(try cursors[index].next()) }
    }

    mutating func next() throws(ExtentError) -> ExtentEntry? {
        var winner: ExtentEntry?
        for head in heads {
            guard let head else { continue }
            if winner.map({ head.key.lexicographicallyPrecedes($0.key) }) ?? true { winner = head }
        }
        guard let winner else { return nil }
        for index in heads.indices where heads[index]?.key == winner.key {
            heads[index] = try cursors[index].next()
        }
        return winner
    }
}
