import Testing

@Suite("Options given in seconds: one check for every such option")
struct SecondsOptionTests {
    /// Each case is refused while its arguments are parsed, before any file or node is touched.
    /// `inf` once passed each option's own `> 0` check and ended the process when it became an
    /// integer count of milliseconds.
    @Test(
        "inf, nan, 0, a negative number and more than a century are refused naming the option",
        arguments: [
            (["status", "--watch", "--interval", "inf"], "--interval <S>"),
            (["status", "--watch", "--interval", "0"], "--interval <S>"),
            (["verify", "--node", "a", "--node", "b", "--timeout", "nan"], "--timeout <S>"),
            (["start", "--data", "/nowhere", "--synchronous-fallback-after", "4e9"], "--synchronous-fallback-after <SECONDS>"),
            (["standby", "--data", "/nowhere", "--archive", "/nowhere", "--poll-seconds", "inf"], "--poll-seconds <poll-seconds>"),
            (["standby", "--data", "/nowhere", "--primary", "127.0.0.1:1", "--apply-delay=-1"], "--apply-delay <SECONDS>"),
        ])
    func refused(arguments: [String], option: String) throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(arguments, in: directory)
            #expect(result.status == 64, "\(result.standardError)")
            #expect(result.standardError.contains("is invalid for '\(option)': give a number of seconds"), "\(result.standardError)")
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
