import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// The test file system's own promises, on which every crash test rests: directory changes are
/// undone by a crash until their directory is synced (a rename: both directories), injected read
/// errors and partial writes on a full disk behave like a real disk's, and a world stopped after
/// durable step n changes nothing more.
@Suite struct SimulatedFileSystemTests {
    static let directory = FilePath("/disk/dir")
    static let other = FilePath("/disk/other")
    /// Enough power losses that each of a change's two outcomes shows up (1 in 2^64 otherwise).
    static let crashSeeds: [UInt64] = Array(1...64)

    /// A fixture disk: two synced directories under `/disk`, and a synced file in the first.
    private func disk(file name: String = "file", contents: String = "old") throws -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(Self.directory)
        try fileSystem.createDirectory(Self.other)
        try fileSystem.writeNewFile(Self.directory.appending(name), contents: Array(contents.utf8)[...])
        return fileSystem
    }

    private func text(_ fileSystem: SimulatedFileSystem, _ path: FilePath) -> String? {
        fileSystem.contents(of: path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func anUnlinkIsUndoneByACrashUntilTheDirectoryIsSynced() throws {
        let fileSystem = try disk()
        let file = Self.directory.appending("file")
        try fileSystem.removeFile(file)
        let outcomes = Set(Self.crashSeeds.map { fileSystem.crashed(seed: $0).fileExists(file) })
        #expect(outcomes == [true, false])
        try fileSystem.syncDirectory(Self.directory)
        #expect(Self.crashSeeds.allSatisfy { !fileSystem.crashed(seed: $0).fileExists(file) })
    }

    @Test func aDirectoryIsUndoneWithItsContentsUntilItsParentIsSynced() throws {
        let fileSystem = try disk()
        let made = Self.directory.appending("made")
        let inside = made.appending("inside")
        try fileSystem.createDirectory(made)
        try fileSystem.writeNewFile(inside, contents: Array("data".utf8)[...])
        var outcomes: Set<Bool> = []
        for seed in Self.crashSeeds {
            let survivor = fileSystem.crashed(seed: seed)
            outcomes.insert(survivor.fileExists(made))
            #expect(survivor.fileExists(made) == survivor.fileExists(inside), "seed \(seed): a synced file lives as long as its directory")
        }
        #expect(outcomes == [true, false])
        try fileSystem.syncDirectory(Self.directory)
        #expect(Self.crashSeeds.allSatisfy { text(fileSystem.crashed(seed: $0), inside) == "data" })
    }

    @Test func aRemovedDirectoryComesBackUntilItsParentIsSynced() throws {
        let fileSystem = try disk()
        let made = Self.directory.appending("made")
        try fileSystem.createDirectory(made)
        try fileSystem.syncDirectory(Self.directory)
        try fileSystem.removeDirectory(made)
        #expect(Set(Self.crashSeeds.map { fileSystem.crashed(seed: $0).fileExists(made) }) == [true, false])
        try fileSystem.syncDirectory(Self.directory)
        #expect(Self.crashSeeds.allSatisfy { !fileSystem.crashed(seed: $0).fileExists(made) })
    }

    @Test func aRemovedDirectoryMustBeEmpty() throws {
        let fileSystem = try disk()
        #expect {
            try fileSystem.removeDirectory(Self.directory)
        } throws: { error in
            guard case TranlogError.io(_, let path, ENOTEMPTY) = error else { return false }
            return path == Self.directory.string
        }
    }

    @Test func aRenameOverAFileIsUndoneWholeUntilTheDirectoryIsSynced() throws {
        let fileSystem = try disk()
        let target = Self.directory.appending("file"), temporary = Self.directory.appending("file.tmp")
        try fileSystem.writeNewFile(temporary, contents: Array("new".utf8)[...])
        try fileSystem.rename(temporary, to: target)
        var outcomes: Set<String?> = []
        for seed in Self.crashSeeds {
            let survivor = fileSystem.crashed(seed: seed)
            outcomes.insert(text(survivor, target))
            // Undone, the renamed file is back under its old name: never lost, never twice.
            #expect((text(survivor, target) == "new") != (text(survivor, temporary) == "new"), "seed \(seed)")
        }
        #expect(outcomes == ["old", "new"])
        try fileSystem.syncDirectory(Self.directory)
        #expect(Self.crashSeeds.allSatisfy { text(fileSystem.crashed(seed: $0), target) == "new" })
    }

    @Test func aRenameAcrossDirectoriesIsDurableOnlyOnceBothAreSynced() throws {
        let fileSystem = try disk()
        let source = Self.directory.appending("file"), target = Self.other.appending("file")
        try fileSystem.rename(source, to: target)
        for synced in [Self.other, Self.directory] {
            var outcomes: Set<Bool> = []
            for seed in Self.crashSeeds {
                let survivor = fileSystem.crashed(seed: seed)
                #expect(survivor.fileExists(source) != survivor.fileExists(target), "seed \(seed), after syncing \(synced)")
                outcomes.insert(survivor.fileExists(target))
            }
            #expect(outcomes == [true, false], "before \(synced) is synced, the rename may be undone")
            try fileSystem.syncDirectory(synced)
        }
        #expect(Self.crashSeeds.allSatisfy { seed in
            let survivor = fileSystem.crashed(seed: seed)
            return survivor.fileExists(target) && !survivor.fileExists(source)
        })
    }

    @Test func aRenamedDirectoryTakesItsContentsAlong() throws {
        let fileSystem = try disk()
        let built = Self.directory.appending("built"), placed = Self.other.appending("placed")
        try fileSystem.createDirectory(built)
        try fileSystem.writeNewFile(built.appending("config"), contents: Array("whole".utf8)[...])
        try fileSystem.syncDirectory(Self.directory)
        try fileSystem.rename(built, to: placed)
        #expect(text(fileSystem, placed.appending("config")) == "whole")
        #expect(!fileSystem.fileExists(built))
        for seed in Self.crashSeeds {
            let survivor = fileSystem.crashed(seed: seed)
            let home = survivor.fileExists(placed) ? placed : built
            #expect(text(survivor, home.appending("config")) == "whole", "seed \(seed)")
        }
    }

    @Test func injectedReadErrorsHitOnlyTheChosenPaths() throws {
        let fileSystem = try disk()
        let bad = Self.directory.appending("file"), good = Self.directory.appending("good")
        try fileSystem.writeNewFile(good, contents: Array("fine".utf8)[...])
        fileSystem.failReads(of: bad)
        for read in [{ try fileSystem.readFile(bad) }, { try fileSystem.read(bad, at: 1, count: 1) }] {
            #expect {
                _ = try read()
            } throws: { error in
                guard case TranlogError.io(_, let path, EIO) = error else { return false }
                return path == bad.string
            }
        }
        #expect(try fileSystem.readFile(good) == Array("fine".utf8))
        fileSystem.failReads(where: { $0.removingLastComponent() == Self.directory }, errno: EBADMSG)
        #expect(throws: TranlogError.io(operation: "reading", path: good.string, errno: EBADMSG)) { try fileSystem.readFile(good) }
        fileSystem.stopFailingReads()
        #expect(try fileSystem.readFile(bad) == Array("old".utf8))
    }

    @Test func aFullDiskKeepsThePartOfTheWriteThatFit() throws {
        let fileSystem = try disk()
        let path = Self.directory.appending("filling")
        let file = try fileSystem.createFile(path)
        fileSystem.limitFreeSpace(to: 10)
        try file.append(Array(repeating: 1, count: 4)[...])
        #expect(throws: TranlogError.io(operation: "writing", path: path.string, errno: ENOSPC)) {
            try file.append(Array(repeating: 2, count: 25)[...])
        }
        #expect(fileSystem.contents(of: path) == Array(repeating: 1, count: 4) + Array(repeating: 2, count: 6))
        #expect(throws: TranlogError.io(operation: "writing", path: path.string, errno: ENOSPC)) { try file.append([3][...]) }
        #expect(file.size == 10)
    }

    @Test func theWorldStopsAfterTheChosenDurableStep() throws {
        let fileSystem = try disk()
        let start = fileSystem.durableStepCount
        fileSystem.crash(afterDurableStep: start + 2)
        let path = Self.directory.appending("new")
        let file = try fileSystem.createFile(path)
        try file.append(Array("abc".utf8)[...])
        try file.sync()  // step 1
        #expect(!fileSystem.hasCrashed)
        try fileSystem.rename(path, to: Self.directory.appending("renamed"))  // step 2: the last
        #expect(fileSystem.hasCrashed)
        #expect(fileSystem.durableStepCount == start + 2)
        let refusals: [() throws -> Void] = [
            { try fileSystem.syncDirectory(Self.directory) },
            { try file.append([1][...]) },
            { try fileSystem.removeFile(Self.directory.appending("file")) },
            { try fileSystem.createDirectory(Self.directory.appending("more")) },
            { _ = try fileSystem.readFile(Self.directory.appending("file")) },
        ]
        for refused in refusals {
            #expect(throws: TranlogError.self) { try refused() }
        }
        #expect(fileSystem.durableStepCount == start + 2)
        #expect(fileSystem.fileExists(Self.directory.appending("file")), "nothing changed after the crash")
        // Power loss at that instant: the synced file is whole under one of its two names.
        for seed in Self.crashSeeds {
            let survivor = fileSystem.crashed(seed: seed)
            let names = ["new", "renamed"].filter { survivor.fileExists(Self.directory.appending($0)) }
            #expect(names.count <= 1, "seed \(seed)")
            if let name = names.first { #expect(text(survivor, Self.directory.appending(name)) == "abc", "seed \(seed)") }
            #expect(!survivor.hasCrashed)
        }
    }

    @Test func theHarnessCrashesAtEveryStepOfAnAtomicReplace() async throws {
        let path = Self.directory.appending("file")
        let visited = Visited()
        let steps = try await CrashStepHarness(
            name: "replaceFile",
            setUp: { fileSystem in
                try fileSystem.createDirectory(Self.directory)
                try fileSystem.writeNewFile(path, contents: Array("old".utf8)[...])
            },
            operation: { fileSystem, _ in try fileSystem.replaceFile(path, contents: Array("new".utf8)[...]) },
            check: { disk, _, crash in
                visited.steps.append(crash.step)
                let found = text(disk, path)
                // Not until the directory sync (the last step) is the new contents sure to stay.
                #expect(found == "new" || (found == "old" && crash.step < crash.of), "\(crash): found \(found ?? "nothing")")
                #expect(crash.operationCompleted == (crash.step == crash.of), "\(crash)")
            }
        ).run()
        // The file's sync, the rename, the directory's sync.
        #expect(steps == 3)
        #expect(visited.steps == [0, 1, 2, 3])
    }

    /// The crash points a harness checked, in order (the harness runs them one after another).
    private final class Visited {
        var steps: [Int] = []
    }
}
