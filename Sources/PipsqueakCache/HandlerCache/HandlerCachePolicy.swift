/// The handler cache's decisions, as pure functions of a snapshot: no clocks, no I/O.
public enum HandlerCachePolicy {
    /// What to do with an incoming request for one handler.
    public enum Admission: Equatable, Sendable {
        /// Use an idle (possibly paused) instance.
        case reuse
        /// Start a new instance.
        case start
        /// Wait for an instance to become free.
        case wait
        /// Refuse: the handler is at its instance limit and its queue is full.
        case reject
    }

    public static func admit(idle: Int, live: Int, starting: Int, maxInstances: Int, queued: Int, maxQueue: Int) -> Admission {
        if idle > 0 { return .reuse }
        if live + starting < maxInstances { return .start }
        if queued < maxQueue { return .wait }
        return .reject
    }

    /// An instance as the eviction policy sees it.
    public struct InstanceInfo: Equatable, Sendable {
        public var id: String
        /// Larger is more recent.
        public var lastUsed: UInt64
        public var memoryBytes: Int64
        public var busy: Bool

        public init(id: String, lastUsed: UInt64, memoryBytes: Int64, busy: Bool) {
            self.id = id
            self.lastUsed = lastUsed
            self.memoryBytes = memoryBytes
            self.busy = busy
        }
    }

    /// Least-recently-used idle instances to evict until the cached total fits `budgetBytes`.
    /// Busy instances are never evicted, but their memory counts against the budget.
    public static func evictions(_ instances: [InstanceInfo], budgetBytes: Int64) -> [String] {
        var total = instances.reduce(Int64(0)) { $0 + $1.memoryBytes }
        guard total > budgetBytes else { return [] }
        var victims: [String] = []
        for instance in instances.filter({ !$0.busy }).sorted(by: { ($0.lastUsed, $0.id) < ($1.lastUsed, $1.id) }) {
            if total <= budgetBytes { break }
            victims.append(instance.id)
            total -= instance.memoryBytes
        }
        return victims
    }

    /// Idle, unfrozen instances that have been idle for at least `freezeAfter` ticks by `now`.
    public static func instancesToFreeze(_ idle: [(id: String, lastUsed: UInt64, frozen: Bool)], now: UInt64, freezeAfter: UInt64) -> [String] {
        idle.filter { !$0.frozen && now >= $0.lastUsed && now - $0.lastUsed >= freezeAfter }.map(\.id).sorted()
    }
}
