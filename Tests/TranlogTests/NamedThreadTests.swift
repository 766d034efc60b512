import Foundation
import Testing
import Tranlog
import UnderstudyTesting

/// The writer's threads carry their names to the kernel (`top -H`, `perf`, `gdb`): Foundation on
/// Linux drops a name set before `start()`, and every thread showed as a dispatch worker.
@Suite struct NamedThreadTests {
    @Test func completionsRunOnTheThreadNamedForThem() throws {
        let writer = try WriterTests.openWriter(emptyLogFileSystem())
        let name = NameBox()
        let done = DispatchSemaphore(value: 0)
        writer.append(putCommit(0)) { _ in
            name.value = Thread.current.name
            done.signal()
        }
        done.wait()
        #expect(name.value == "tranlog-done")
        try writer.close()
    }
}

private final class NameBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
