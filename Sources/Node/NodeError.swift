import Repository
import Transport

/// Why a node could not start or stop cleanly, worded for the operator.
public enum NodeError: Error, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case repository(RepositoryError)
    /// The HTTP port could not be opened.
    case http(TransportError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problem):
            "invalid node configuration: \(problem)"
        case .repository(let error):
            error.description
        case .http(let error):
            "cannot serve HTTP: \(error); is another node using the port? Choose another with --http HOST:PORT"
        }
    }
}
