import Replication
import Repository
import Transport

/// Why a node could not start or stop cleanly, worded for the operator.
public enum NodeError: Error, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case repository(RepositoryError)
    /// The HTTP port could not be opened.
    case http(TransportError)
    /// A standby's base copy failed for good (a retryable failure is retried); nothing was left in `directory`.
    case baseCopy(BaseCopyFailure, directory: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problem):
            "invalid node configuration: \(problem)"
        case .repository(let error):
            error.description
        case .http(let error):
            "cannot serve HTTP: \(error); is another node using the port? Choose another with --http HOST:PORT"
        case .baseCopy(let failure, let directory):
            "\(failure); \(directory) was not created (nothing of the copy is left): fix the cause and start the standby again"
        }
    }
}
