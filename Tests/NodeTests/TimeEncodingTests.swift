import Foundation
import Node
import Repository
import Testing
import Tranlog

/// Times in the API's JSON are RFC 3339 strings; files on disk keep integer microseconds.
@Suite struct TimeEncodingTests {
    @Test("the API encoder writes RFC 3339, any other encoder microseconds; both decode back")
    func encodingIsChosenByTheEncoder() throws {
        let time = Timestamp(microsecondsSinceEpoch: 1_796_198_032_379_693)
        let api = String(decoding: try APIJSON.encoder().encode([time]), as: UTF8.self)
        let disk = String(decoding: try JSONEncoder().encode([time]), as: UTF8.self)
        #expect(api == #"["2026-12-02T07:53:52.379693Z"]"#)
        #expect(disk == "[1796198032379693]")
        for json in [api, disk] {
            #expect(try JSONDecoder().decode([Timestamp].self, from: Data(json.utf8)) == [time], "\(json)")
        }
        let error = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode([Timestamp].self, from: Data(#"["yesterday"]"#.utf8))
        }
        #expect("\(error)".contains("'yesterday' is neither an RFC 3339 time"))
    }

    @Test("GET /status shows RFC 3339 times, the client reads them back, understudy.json is unchanged")
    func statusRoundTrip() throws {
        try withNode { fixture in
            let configBefore = try Data(contentsOf: URL(fileURLWithPath: fixture.dataDirectory.configFile.string))
            _ = try fixture.client.put(key: .init("k"), value: [1])
            let raw = try fixture.send("GET", "/status")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(raw.body)) as? [String: Any])
            let repository = try #require(json["repository"] as? [String: Any])
            let text = try #require((repository["applied"] as? [String: Any])?["time"] as? String, "\(raw.text)")
            #expect(text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(text)")

            let status = try fixture.client.status()
            #expect(status.repository.applied.time?.iso8601 == text)

            let configAfter = try Data(contentsOf: URL(fileURLWithPath: fixture.dataDirectory.configFile.string))
            #expect(configAfter == configBefore)
            let config = try #require(try JSONSerialization.jsonObject(with: configAfter) as? [String: Any])
            #expect((config["createdAt"] as? NSNumber)?.int64Value == fixture.repositoryConfig.createdAt.microsecondsSinceEpoch)

            // A state file written while the node serves the API: its time stays integer microseconds.
            let fenced = try fixture.client.fence(FenceRequest(), token: try AdminToken.read(fixture.dataDirectory))
            let fence = try Data(contentsOf: URL(fileURLWithPath: fixture.dataDirectory.fenceFile.string))
            let fenceJSON = try #require(try JSONSerialization.jsonObject(with: fence) as? [String: Any])
            let since = try #require(fenceJSON["since"] as? NSNumber, "\(String(decoding: fence, as: UTF8.self))")
            #expect(Timestamp(microsecondsSinceEpoch: since.int64Value).iso8601 == fenced.fence.since)
        }
    }
}
