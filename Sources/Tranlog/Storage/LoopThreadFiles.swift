import Foundation

/// The rule that a loop thread never touches a file: it serves every socket, so a disk that stalls
/// (or a lock held across one) stalls them all. A node marks its loop threads; in debug builds, which
/// the tests run, every file operation through `PosixFileSystem` or the simulated file system then
/// checks the calling thread and stops the process naming the thread, the operation and the file.
/// Release builds check nothing: the tests are where a violation is caught.
public enum LoopThreadFiles {
    private static let key = "understudy.loop-thread"

    /// Marks the calling thread (a loop's, named `name` in a report) as one that never touches a file.
    public static func forbid(onThisThread name: String) {
        Thread.current.threadDictionary[key] = name
    }

    /// Debug builds: a marked thread doing `operation` on `path` stops the process.
    public static func check(_ operation: @autoclosure () -> String, _ path: @autoclosure () -> String) {
        #if DEBUG
            if let thread = Thread.current.threadDictionary[key] as? String {
                preconditionFailure("\(operation()) \(path()) on the loop thread \(thread): loop threads do socket work only")
            }
        #endif
    }
}
