import PipsqueakCache
import Testing

@Suite struct HandlerCachePolicyTests {
    @Test func admissionPrefersIdleThenStartsThenQueuesThenRejects() {
        #expect(HandlerCachePolicy.admit(idle: 1, live: 4, starting: 0, maxInstances: 4, queued: 0, maxQueue: 1) == .reuse)
        #expect(HandlerCachePolicy.admit(idle: 0, live: 2, starting: 1, maxInstances: 4, queued: 0, maxQueue: 1) == .start)
        #expect(HandlerCachePolicy.admit(idle: 0, live: 3, starting: 1, maxInstances: 4, queued: 0, maxQueue: 1) == .wait)
        #expect(HandlerCachePolicy.admit(idle: 0, live: 4, starting: 0, maxInstances: 4, queued: 1, maxQueue: 1) == .reject)
        #expect(HandlerCachePolicy.admit(idle: 0, live: 1, starting: 0, maxInstances: 1, queued: 0, maxQueue: 0) == .reject)
    }

    @Test func evictsLeastRecentlyUsedIdleUntilUnderBudget() {
        let instances: [HandlerCachePolicy.InstanceInfo] = [
            .init(id: "new", lastUsed: 30, memoryBytes: 10, busy: false),
            .init(id: "old", lastUsed: 10, memoryBytes: 10, busy: false),
            .init(id: "mid", lastUsed: 20, memoryBytes: 10, busy: false),
        ]
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 30) == [])
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 25) == ["old"])
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 10) == ["old", "mid"])
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 0) == ["old", "mid", "new"])
    }

    @Test func neverEvictsBusyInstancesButCountsTheirMemory() {
        let instances: [HandlerCachePolicy.InstanceInfo] = [
            .init(id: "busy", lastUsed: 1, memoryBytes: 50, busy: true),
            .init(id: "idle", lastUsed: 2, memoryBytes: 10, busy: false),
        ]
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 40) == ["idle"])
        #expect(HandlerCachePolicy.evictions(instances, budgetBytes: 100) == [])
    }

    @Test func freezesOnlyInstancesIdleLongEnough() {
        let idle: [(id: String, lastUsed: UInt64, frozen: Bool)] = [("a", 100, false), ("b", 950, false), ("c", 0, true)]
        #expect(HandlerCachePolicy.instancesToFreeze(idle, now: 1000, freezeAfter: 500) == ["a"])
        #expect(HandlerCachePolicy.instancesToFreeze(idle, now: 1000, freezeAfter: 0) == ["a", "b"])
    }
}
