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
    /// A primary that learned of a newer epoch (another node was promoted): it refuses every commit
    /// until re-seeded or unfenced. Its commit point is `fence.json`, so a restart finds it fenced.
    case fenced

    static func of(_ repository: Repository, following: Bool) -> NodeRole {
        if repository.isRestoring { return following ? .standby : .restoring }
        if repository.pendingCommit != nil { return .promoting }
        return repository.isFenced ? .fenced : .primary
    }
}
