import DequeModule
import PipsqueakCore

/// Tier 1: live and paused handler instances, reused by later requests to the same handler code.
///
/// Requests scale out to `maxInstances` instances per handler, then queue up to `maxQueue`, then are refused.
/// Idle instances are frozen after `freezeAfter`; least-recently-used idle instances are evicted when the
/// cgroup-measured memory of all instances exceeds the budget. A budget of 0 disables caching.
public actor HandlerCache<Instance: CacheableInstance> {
    public struct Settings: Sendable {
        public var budgetBytes: Int64
        public var freezeAfter: Duration
        public var maxQueue: Int

        public init(budgetBytes: Int64, freezeAfter: Duration, maxQueue: Int) {
            self.budgetBytes = budgetBytes
            self.freezeAfter = freezeAfter
            self.maxQueue = maxQueue
        }
    }

    /// An instance lent to one request; give it back with `release`.
    public struct Lease: Sendable {
        public let instance: Instance
        public let handler: String
        public let digest: String
        public let start: StartKind
    }

    public struct Stats: Sendable, Codable, Equatable {
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var rejected = 0
        public var busy = 0
        public var idle = 0
        public var paused = 0
        public var starting = 0
        public var queued = 0
        public var memoryBytes: Int64 = 0
    }

    private struct Entry {
        var instance: Instance
        var digest: String
        var lastUsed: UInt64
        var busy: Bool
        var frozen = false
        var memoryBytes: Int64 = 0
    }

    private struct Pool {
        var entries: [String: Entry] = [:]
        var starting = 0
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
        /// The deployed code: instances of other digests are never reused and are destroyed when released.
        /// Set by the first request and by `invalidate`, never moved back by a request admitted earlier.
        var currentDigest = ""
    }

    public let settings: Settings
    private var pools: [String: Pool] = [:]
    private var stats = Stats()
    private var destroying: [String: Task<Void, Never>] = [:]
    private var shuttingDown = false
    private let clock = ContinuousClock()
    private let epoch = ContinuousClock.now

    public init(settings: Settings) {
        self.settings = settings
    }

    private var now: UInt64 { UInt64(epoch.duration(to: clock.now).nanoseconds) }

    /// Lends an instance of `handler` at `digest`, starting one with `start` if none is idle.
    ///
    /// A request admitted with an older digest than the deployed one still gets an instance of the code it was
    /// admitted with (the caller keeps that code on disk until it is done); the instance is destroyed on release.
    public func acquire(
        handler: String, digest: String, maxInstances: Int,
        start: @Sendable () async throws(PipsqueakError) -> Instance
    ) async throws(PipsqueakError) -> Lease {
        if pools[handler] == nil { pools[handler] = Pool(currentDigest: digest) }
        while true {
            if shuttingDown { throw PipsqueakError(.shuttingDown, "the worker is shutting down") }
            let pool = pools[handler, default: Pool()]
            let idle = pool.entries.values.filter { !$0.busy && $0.digest == digest }
            let live = pool.entries.count
            switch HandlerCachePolicy.admit(idle: idle.count, live: live, starting: pool.starting, maxInstances: maxInstances,
                                            queued: pool.waiters.count, maxQueue: settings.maxQueue) {
            case .reuse:
                guard let chosen = idle.max(by: { $0.lastUsed < $1.lastUsed }) else { continue }
                pools[handler]?.entries[chosen.instance.id]?.busy = true
                if chosen.frozen {
                    do {
                        try await chosen.instance.thaw()
                        pools[handler]?.entries[chosen.instance.id]?.frozen = false
                    } catch {
                        discard(handler: handler, id: chosen.instance.id)
                        continue
                    }
                }
                stats.hits += 1
                return Lease(instance: chosen.instance, handler: handler, digest: digest, start: .warm)
            case .start:
                pools[handler, default: Pool()].starting += 1
                let instance: Instance
                do {
                    instance = try await start()
                } catch {
                    pools[handler]?.starting -= 1
                    wakeOne(handler)
                    throw error
                }
                pools[handler, default: Pool()].starting -= 1
                stats.misses += 1
                if shuttingDown {
                    scheduleDestroy(instance)
                    throw PipsqueakError(.shuttingDown, "the worker is shutting down")
                }
                pools[handler, default: Pool()].entries[instance.id] = Entry(instance: instance, digest: digest, lastUsed: now,
                                                                             busy: true, memoryBytes: instance.memoryUsage())
                return Lease(instance: instance, handler: handler, digest: digest, start: instance.origin)
            case .wait:
                await withCheckedContinuation { continuation in
                    pools[handler, default: Pool()].waiters.append(continuation)
                }
            case .reject:
                stats.rejected += 1
                throw PipsqueakError(.overloaded,
                                     "handler \(handler) is at its limit of \(maxInstances) instance(s) and \(settings.maxQueue) queued request(s); retry later")
            }
        }
    }

    /// Returns a lent instance. An unhealthy one (timed out, crashed) is destroyed, as is every instance
    /// when the budget is 0 or the handler was redeployed meanwhile.
    public func release(_ lease: Lease, healthy: Bool) {
        let id = lease.instance.id
        let stale = pools[lease.handler]?.currentDigest != lease.digest
        if !healthy || stale || shuttingDown || settings.budgetBytes == 0 {
            discard(handler: lease.handler, id: id)
        } else {
            pools[lease.handler]?.entries[id]?.busy = false
            pools[lease.handler]?.entries[id]?.lastUsed = now
        }
        wakeOne(lease.handler)
    }

    /// Records a redeploy (`currentDigest`) or a delete (nil): idle instances of other code are destroyed now,
    /// busy ones when they are released.
    public func invalidate(handler: String, currentDigest: String? = nil) {
        guard var pool = pools[handler] else {
            if let currentDigest { pools[handler] = Pool(currentDigest: currentDigest) }
            return
        }
        pool.currentDigest = currentDigest ?? ""
        pools[handler] = pool
        for entry in pool.entries.values where !entry.busy && entry.digest != currentDigest { discard(handler: handler, id: entry.instance.id) }
        wakeAll(handler)
    }

    /// Periodic upkeep: sample memory, freeze instances idle for `freezeAfter`, evict over budget.
    public func maintain() async {
        let nowTick = now
        let freezeAfter = UInt64(settings.freezeAfter.nanoseconds)
        for (handler, pool) in pools {
            let idle = pool.entries.values.filter { !$0.busy }.map { (id: $0.instance.id, lastUsed: $0.lastUsed, frozen: $0.frozen) }
            for id in HandlerCachePolicy.instancesToFreeze(idle, now: nowTick, freezeAfter: freezeAfter) {
                guard let entry = pools[handler]?.entries[id], !entry.busy else { continue }
                // Busy while freezing, so no request takes it half-frozen.
                pools[handler]?.entries[id]?.busy = true
                do {
                    try await entry.instance.freeze()
                    pools[handler]?.entries[id]?.frozen = true
                    pools[handler]?.entries[id]?.busy = false
                    if pools[handler]?.entries[id] != nil { wakeOne(handler) }
                } catch {
                    discard(handler: handler, id: id)
                }
            }
        }
        var infos: [HandlerCachePolicy.InstanceInfo] = []
        var owner: [String: String] = [:]
        for (handler, pool) in pools {
            for (id, entry) in pool.entries {
                let memory = entry.instance.memoryUsage()
                pools[handler]?.entries[id]?.memoryBytes = memory
                infos.append(.init(id: id, lastUsed: entry.lastUsed, memoryBytes: memory, busy: entry.busy))
                owner[id] = handler
            }
        }
        for id in HandlerCachePolicy.evictions(infos, budgetBytes: settings.budgetBytes) {
            guard let handler = owner[id] else { continue }
            stats.evictions += 1
            discard(handler: handler, id: id)
        }
    }

    public func snapshot() -> Stats {
        var result = stats
        for pool in pools.values {
            for entry in pool.entries.values {
                if entry.busy { result.busy += 1 } else if entry.frozen { result.paused += 1 } else { result.idle += 1 }
                result.memoryBytes += entry.memoryBytes
            }
            result.starting += pool.starting
            result.queued += pool.waiters.count
        }
        return result
    }

    /// Every instance with its handler and state, for status pages.
    public func entries() -> [(instance: Instance, handler: String, busy: Bool, frozen: Bool)] {
        pools.flatMap { handler, pool in pool.entries.values.map { (instance: $0.instance, handler: handler, busy: $0.busy, frozen: $0.frozen) } }
    }

    /// Every instance the cache holds, busy or not.
    public func instances() -> [Instance] { pools.values.flatMap { $0.entries.values.map(\.instance) } }

    /// Instance counts per handler: (live, paused).
    public func instanceCounts() -> [String: (live: Int, paused: Int)] {
        pools.mapValues { pool in
            (pool.entries.values.filter { !$0.frozen }.count, pool.entries.values.filter(\.frozen).count)
        }
    }

    /// Refuses new work, wakes every waiter, destroys every instance and waits until all are gone.
    public func shutdown() async {
        shuttingDown = true
        for handler in Array(pools.keys) {
            wakeAll(handler)
            for id in Array(pools[handler]?.entries.keys ?? [:].keys) { discard(handler: handler, id: id) }
        }
        while let (_, task) = destroying.first {
            await task.value
        }
    }

    // MARK: internals

    private func discard(handler: String, id: String) {
        guard let entry = pools[handler]?.entries.removeValue(forKey: id) else { return }
        scheduleDestroy(entry.instance)
    }

    private func scheduleDestroy(_ instance: Instance) {
        let id = instance.id
        destroying[id] = Task {
            await instance.destroy()
            self.finishedDestroying(id)
        }
    }

    private func finishedDestroying(_ id: String) {
        destroying[id] = nil
    }

    private func wakeOne(_ handler: String) {
        pools[handler]?.waiters.popFirst()?.resume()
    }

    private func wakeAll(_ handler: String) {
        while let waiter = pools[handler]?.waiters.popFirst() { waiter.resume() }
    }
}
