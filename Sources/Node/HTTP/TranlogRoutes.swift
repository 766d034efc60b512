import Foundation
import Repository
import Tranlog
import TransportUV

/// `GET /tranlog/find?seqno=N | event=tranlogN.dbf:OFFSET | time=ISO8601`: the headers of one record
/// of this node's tranlogs (`understudy tranlog find --node`), as Tungsten's `thl list -headers`
/// answers on the primary. 404 when there is none, saying what the logs hold; 422 when damage or a
/// missing file stops the search before the record.
struct TranlogRoutes: Sendable {
    let repository: Repository

    var routes: [Route] {
        [Route(name: "tranlog_find", path: .exact("/tranlog/find"), handlers: ["GET": { find($0, $1) }])]
    }

    private func find(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            let key = try Self.key(QueryParameters(request.http.query, allowed: ["seqno", "event", "time"]))
            let (directory, repositoryID, fileSystem) = (repository.directory, repository.config.repositoryID, repository.fileSystem)
            // Reading the logs takes file I/O: never on the loop thread.
            DispatchQueue.global(qos: .utility).async {
                reply.orError { () throws(APIError) in reply.sendJSON(try Self.search(key, in: directory, repositoryID: repositoryID, fileSystem: fileSystem)) }
            }
        }
    }

    private static func search(
        _ key: RecordKey, in directory: DataDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem
    ) throws(APIError) -> RecordHeaders {
        do {
            let logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem)
            switch try RecordSearch.find(key, in: logs, fileSystem: fileSystem, expectedRepository: repositoryID) {
            case .success(let record): return RecordHeaders(record)
            case .failure(let notFound): throw APIError(status: 404, error: "not found", detail: notFound.description)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(status: 422, error: "tranlogs unreadable", detail: "\(error)")
        }
    }

    /// Exactly one of the three parameters, parsed as the CLI parses them.
    static func key(_ query: QueryParameters) throws(APIError) -> RecordKey {
        let given = ["seqno", "event", "time"].compactMap { name in query[name].map { (name, String(decoding: $0, as: UTF8.self)) } }
        guard given.count == 1, let (name, text) = given.first else {
            throw .badRequest("invalid query", "give exactly one of seqno=N, event=tranlogN.dbf:OFFSET or time=ISO8601")
        }
        let key: RecordKey? =
            switch name {
            case "seqno": UInt64(text).map { .seqno(Seqno($0)) }
            case "event": EventID(text).map { .event($0) }
            default: Timestamp(iso8601: text).map { .time($0) }
            }
        guard let key else { throw .badRequest("invalid query", "'\(text)' is not a valid \(name) (\(Self.forms[name]!))") }
        if let problem = key.problem { throw .badRequest("invalid query", problem) }
        return key
    }

    private static let forms = [
        "seqno": "a positive integer", "event": "FILE:OFFSET, e.g. tranlog12.dbf:4096",
        "time": "ISO 8601, e.g. 2026-11-22T03:12:58Z",
    ]
}
