import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Loop threads do socket work only: in the debug builds the tests run, a file touched on a thread
/// marked as a loop's stops the process, naming it. (The whole suite runs with node loops marked;
/// this shows the mark is enforced, in a child process, since it ends the process.)
@Suite struct LoopThreadFilesTests {
    @Test func aFileTouchedOnAMarkedThreadStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            LoopThreadFiles.forbid(onThisThread: "test-loop")
            _ = PosixFileSystem().fileExists(FilePath("/"))
        }
        await #expect(processExitsWith: .failure) {
            LoopThreadFiles.forbid(onThisThread: "test-loop")
            _ = try SimulatedFileSystem().contentsOfDirectory(FilePath("/"))
        }
    }

    @Test func anUnmarkedThreadTouchesFiles() throws {
        let listed = try PosixFileSystem().contentsOfDirectory(FilePath("/"))
        #expect(listed.contains("tmp"))
    }
}
