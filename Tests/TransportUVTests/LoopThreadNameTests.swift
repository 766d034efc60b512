import Glibc
import Logging
import Testing
import Transport
import TransportUV

/// The loop thread carries its name to the kernel, where `top -H`, `perf` and `gdb` read it: left
/// unnamed it showed as a dispatch worker ("oot.default-qos") in profiles of the commit path.
@Suite struct LoopThreadNameTests {
    @Test func theLoopThreadRunsUnderItsName() throws {
        var logger = Logger(label: "understudy.transport.test")
        logger.logLevel = .warning
        let loop = try UVEventLoop(threadName: "name-test", logger: logger)
        defer { loop.shutdown() }
        // The kernel's record of the thread's name, as `top -H` and `perf` read it.
        let name = loop.executeAndWait { () -> String? in
            guard let file = fopen("/proc/thread-self/comm", "r") else { return nil }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 32)
            guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #expect(name == .some("name-test"))
    }
}
