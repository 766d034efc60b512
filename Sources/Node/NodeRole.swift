import Repository

/// A node's role: derived here and nowhere else, from the repository's durable state (restore mode,
/// a commit whose completion is pending) and from what the node follows. The transitions between
/// roles, their commit points and what a restart finds are in docs/ROLES.md.
public enum NodeRole: String, Codable, Sendable, CaseIterable {
    /// Accepts commits.
    case primary
    /// In restore mode, following a primary or an archive, until promoted.
    case standby
    /// In restore mode for a manual restore (`start --restore-mode`), until `restore commit`.
    case restoring
    /// A commitRestore passed its commit point but its completion was interrupted by an error:
    /// writes are refused until `promote` (or `restore commit`) runs again or the node restarts.
    case promoting

    static func of(_ repository: Repository, following: Bool) -> NodeRole {
        if repository.isRestoring { return following ? .standby : .restoring }
        return repository.pendingCommit != nil ? .promoting : .primary
    }
}
