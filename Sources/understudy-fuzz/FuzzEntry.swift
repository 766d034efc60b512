import FuzzTargets
import Foundation

#if FUZZING
/// libFuzzer's driver, from its runtime (linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The program's entry (built with `-sanitize=fuzzer -DFUZZING`). SwiftPM names an executable's
/// entry `understudy_fuzz_main` and links it as `main`, so libFuzzer's own `main` is never pulled in:
/// this one hands libFuzzer its arguments and the target, named by `UNDERSTUDY_FUZZ_TARGET` (one of
/// `FuzzTarget`'s raw values).
@_cdecl("understudy_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    _ = selectedTarget
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}

/// One input, as libFuzzer calls it (also by this name, which its runtime expects to exist).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = selectedTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

private let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["UNDERSTUDY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set UNDERSTUDY_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()
#else
/// Without the fuzzer: `understudy-fuzz seeds DIR` writes a seed corpus per target (made by the
/// project's own encoders), and `understudy-fuzz run TARGET FILE…` runs inputs through a target,
/// printing each outcome (what a crash found by the fuzzer is replayed with).
@main
struct FuzzCommand {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch (arguments.first, arguments.count) {
        case ("seeds", 2):
            try FuzzSeeds.write(to: URL(fileURLWithPath: arguments[1]))
        case ("run", 3...):
            guard let target = FuzzTarget(rawValue: arguments[1]) else { usage() }
            for path in arguments.dropFirst(2) {
                let outcome = target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                print("\(path): decoded \(outcome.decoded)\(outcome.rejection.map { ", rejected: \($0)" } ?? "")")
            }
        default:
            usage()
        }
    }

    static func usage() -> Never {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        FileHandle.standardError.write(Data("usage: understudy-fuzz seeds DIR | understudy-fuzz run \(names) FILE…\n".utf8))
        exit(2)
    }
}
#endif
