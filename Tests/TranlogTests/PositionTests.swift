import Testing
import Tranlog

@Suite struct PositionTests {
    @Test func fileNamesParseAndPrintTheSameWay() {
        #expect(FileID(12).fileName == "tranlog12.dbf")
        #expect(FileID(fileName: "tranlog12.dbf") == FileID(12))
        #expect(FileID(fileName: "tranlog12.dbf.gz") == FileID(12))
        for bad in ["tranlog.dbf", "tranlog012.dbf", "tranlog12.dbf.torn-at-40", "extent-000001.dbf", "tranlog-1.dbf", "tranlog1x.dbf"] {
            #expect(FileID(fileName: bad) == nil, "\(bad) must not be taken for a tranlog")
        }
    }

    @Test func eventIDsRoundTrip() throws {
        let eventID = EventID(fileID: FileID(12), offset: 4096)
        #expect(eventID.description == "tranlog12.dbf:4096")
        #expect(EventID("tranlog12.dbf:4096") == eventID)
        #expect(EventID("tranlog12.dbf") == nil)
        #expect(EventID("tranlog12.dbf:x") == nil)
        #expect(EventID("mysql-bin.000032:473863524") == nil)
    }

    @Test func timestampsKeepMicroseconds() throws {
        let time = try #require(Timestamp(iso8601: "2026-11-22T03:12:58.123456Z"))
        #expect(time.iso8601 == "2026-11-22T03:12:58.123456Z")
        #expect(Timestamp(iso8601: "2026-11-22T04:12:58.123456+01:00") == time)
        #expect(Timestamp(iso8601: "2026-11-22T03:12:58Z")?.iso8601 == "2026-11-22T03:12:58.000000Z")
        #expect(Timestamp(iso8601: "yesterday") == nil)
    }

    @Test func sourceIDsAreBounded() {
        #expect(SourceID("db1-east") != nil)
        #expect(SourceID("") == nil)
        #expect(SourceID(String(repeating: "x", count: 256)) == nil)
        #expect(SourceID("bad\nname") == nil)
    }

    @Test func repositoryIDBytesRoundTrip() {
        let id = RepositoryID.random()
        #expect(RepositoryID(bytes: id.bytes) == id)
        #expect(RepositoryID(id.description) == id)
    }
}
