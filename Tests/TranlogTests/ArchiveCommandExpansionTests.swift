import SystemPackage
import Testing
@testable import Tranlog

@Suite("Archive and restore commands: substitution and exit status")
struct ArchiveCommandExpansionTests {
    @Test("%p, %f and %% are replaced; any other % is left as it is")
    func substitution() {
        let command = ArchiveCommand("cp %p /a/%f && echo 100%% done %x %")
        #expect(command.expanded(path: FilePath("/data/tranlogs/tranlog7.dbf"), fileName: "tranlog7.dbf")
            == "cp /data/tranlogs/tranlog7.dbf /a/tranlog7.dbf && echo 100% done %x %")
    }

    @Test("exit 0 succeeds; another status fails naming the file, the status and what the command said")
    func exitStatus() throws {
        try ArchiveCommand("test %f = tranlog1.dbf").run(path: FilePath("/nowhere"), fileName: "tranlog1.dbf")
        #expect {
            try ArchiveCommand("echo no such bucket >&2; exit 3").run(path: FilePath("/nowhere"), fileName: "tranlog2.dbf")
        } throws: { error in
            guard case .archiveCommandFailed(let file, _, let outcome)? = error as? TranlogError else { return false }
            return file == "tranlog2.dbf" && outcome == "exit status 3: no such bucket"
        }
    }

    @Test("a command killed by a signal fails with the signal; of a long error output the end is kept")
    func signalAndLongErrors() throws {
        #expect {
            try ArchiveCommand("head -c 100000 /dev/zero | tr '\\0' x >&2; echo the end >&2; kill -TERM $$")
                .run(path: FilePath("/nowhere"), fileName: "tranlog3.dbf")
        } throws: { error in
            guard case .archiveCommandFailed(_, _, let outcome)? = error as? TranlogError else { return false }
            return outcome.hasPrefix("killed by signal 15: xxx") && outcome.hasSuffix("xthe end")
                && outcome.utf8.count < ArchiveCommand.keptErrorBytes + 40
        }
    }
}
