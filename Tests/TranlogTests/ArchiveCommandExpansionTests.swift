import SystemPackage
import Testing
import Tranlog

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
}
