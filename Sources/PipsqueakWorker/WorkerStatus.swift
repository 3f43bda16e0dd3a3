import PipsqueakCache

/// The body of `GET /status`.
public struct WorkerStatus: Codable, Sendable {
    public struct Tier: Codable, Sendable {
        public var enabled: Bool
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var budgetMB: Int

        enum CodingKeys: String, CodingKey {
            case enabled, hits, misses, evictions
            case budgetMB = "budget_mb"
        }
    }

    public struct Instances: Codable, Sendable {
        public var live: Int
        public var busy: Int
        public var idle: Int
        public var paused: Int
        public var starting: Int
        public var queued: Int
    }

    public var handlers: Int
    public var tiers: [String: Tier]
    public var instances: Instances
    public var memoryBytes: Int64
    public var rejected: Int
    public var cgroupVersion: String
    public var uptimeSeconds: Double
    /// The import cache's zygote tree.
    public var zygotes: [ZygoteStatus] = []
    /// Handler sandboxes prepared inside zygotes, waiting for cold starts.
    public var preparedSandboxes = 0

    enum CodingKeys: String, CodingKey {
        case handlers, tiers, instances, rejected, zygotes
        case memoryBytes = "memory_bytes"
        case cgroupVersion = "cgroup_version"
        case preparedSandboxes = "prepared_sandboxes"
        case uptimeSeconds = "uptime_s"
    }
}
