import Repository
import TransportUV

/// A refused request: its status and the `{"error": …, "detail": …}` body every endpoint uses. The
/// detail names the key, field or limit involved.
struct APIError: Error {
    var status: Int
    var error: String
    var detail: String
    var headers = HTTPHeaders()

    var response: HTTPResponse {
        var response = HTTPResponse.error(status: status, error: error, detail: detail)
        for field in headers { response.headers.add(name: field.name, value: field.value) }
        return response
    }

    static func badRequest(_ error: String, _ detail: String) -> APIError {
        APIError(status: 400, error: error, detail: detail)
    }
}

extension APIError {
    /// How a repository refusal reaches a client. `readOnly` is 503, like `stopped` and `fenced`: the
    /// request was fine, but this node cannot take writes now (a client should retry, or go to the primary).
    init(_ refusal: RepositoryError) {
        switch refusal {
        case .conflict: self.init(status: 409, error: "conflict", detail: refusal.description)
        case .invalidTransaction: self.init(status: 400, error: "invalid transaction", detail: refusal.description)
        case .readOnly: self.init(status: 503, error: "read-only", detail: refusal.description)
        case .stopped: self.init(status: 503, error: "writes stopped", detail: refusal.description)
        case .fenced, .fenceNotRecorded: self.init(status: 503, error: "fenced", detail: refusal.description)
        case .busy, .restoreNotActive, .logsRefused, .notAllowed, .backupSwitchPending: self.init(status: 409, error: "not now", detail: refusal.description)
        case .backup(let problem): self.init(problem)
        case .missingTranlog, .logsDoNotContinue, .forkInTime, .restoreInterrupted:
            self.init(status: 422, error: "log restore failed", detail: refusal.description)
        default: self.init(status: 500, error: "repository failure", detail: refusal.description)
        }
    }

    /// Targets and files the request named are the client's to fix (400); backup files that are
    /// there but damaged or foreign cannot be used at all (422); a failed write is the node's (500).
    private init(_ problem: BackupError) {
        switch problem {
        case .noFiles, .emptyFileName, .duplicateTarget, .directoryUnusable, .fileExists, .unreadable:
            self.init(status: 400, error: "invalid backup files", detail: problem.description)
        case .writeFailed:
            self.init(status: 500, error: "backup failed", detail: problem.description)
        default:
            self.init(status: 422, error: "unusable backup", detail: problem.description)
        }
    }
}
