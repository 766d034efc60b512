import Testing

@Suite("Options given as numbers: each range checked once, when the option is parsed")
struct NumberOptionTests {
    /// Each case is refused while its arguments are parsed, before any file or node is touched.
    /// `inf` once passed each option's own `> 0` check and ended the process when it became an
    /// integer count of milliseconds; `--checkpoint-seconds 9223372036854775807` overflowed a clock,
    /// and sizes in MiB or KiB wrapped around when shifted into bytes.
    @Test(
        "inf, nan, 0, negative and huge values are refused naming the option and its range",
        arguments: [
            (["status", "--watch", "--interval", "inf"], "--interval <S>", "give a number of seconds above 0"),
            (["status", "--watch", "--interval", "0"], "--interval <S>", "give a number of seconds above 0"),
            (["verify", "--node", "a", "--node", "b", "--timeout", "nan"], "--timeout <S>", "give a number of seconds above 0"),
            (["start", "--data", "/nowhere", "--synchronous-fallback-after", "4e9"], "--synchronous-fallback-after <SECONDS>",
             "give a number of seconds above 0"),
            (["standby", "--data", "/nowhere", "--archive", "/nowhere", "--poll-seconds", "inf"], "--poll-seconds <poll-seconds>",
             "give a number of seconds above 0"),
            (["standby", "--data", "/nowhere", "--primary", "127.0.0.1:1", "--apply-delay=-1"], "--apply-delay <SECONDS>",
             "give a number of seconds of 0 or more"),
            (["start", "--data", "/nowhere", "--checkpoint-seconds", "9223372036854775807"], "--checkpoint-seconds <checkpoint-seconds>",
             "give a whole number of seconds from 1 to 3155760000"),
            (["start", "--data", "/nowhere", "--checkpoint-mbytes", "0"], "--checkpoint-mbytes <N>",
             "give a whole number of MiB from 1 to 1048576"),
            (["start", "--data", "/nowhere", "--max-retained-mbytes", "18446744073709551615"], "--max-retained-mbytes <N>",
             "give a whole number of MiB from 1 to 1073741824"),
            (["start", "--data", "/nowhere", "--rotation-kbytes", "2251799813685248"], "--rotation-kbytes <N>",
             "give a whole number of KiB from 4 to 4194304"),
            (["start", "--data", "/nowhere", "--busy-poll-us=-1"], "--busy-poll-us <N>",
             "give a whole number of microseconds from 0 to 1000000"),
            (["join", "--data", "/nowhere", "--etcd", "http://127.0.0.1:1", "--cluster", "c", "--name", "n", "--ttl", "0"],
             "--ttl <SECONDS>", "give a whole number of seconds from 1"),
        ])
    func refused(arguments: [String], option: String, expected: String) throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(arguments, in: directory)
            #expect(result.status == 64, "\(result.standardError)")
            #expect(result.standardError.contains("is invalid for '\(option)': \(expected)"), "\(result.standardError)")
            #expect(!result.standardError.contains("Fatal error"), "\(result.standardError)")
        }
    }

    @Test("a watch of no refreshes is refused")
    func noRefreshes() throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(["status", "--watch", "--count", "0", "--node", "http://127.0.0.1:1"], in: directory)
            #expect(result.status == 64 && result.standardError.contains("--count must be 1 or more"), "\(result.standardError)")
        }
    }
}
