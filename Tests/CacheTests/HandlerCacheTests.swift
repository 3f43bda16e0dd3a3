import PipsqueakCache
import PipsqueakCore
import Synchronization
import Testing

final class FakeInstance: CacheableInstance {
    let id: String
    let memory: Int64
    private let state = Mutex((frozen: false, destroyed: false, thaws: 0))

    init(id: String, memory: Int64 = 10 << 20) {
        self.id = id
        self.memory = memory
    }

    var isFrozen: Bool { state.withLock { $0.frozen } }
    var isDestroyed: Bool { state.withLock { $0.destroyed } }
    var thaws: Int { state.withLock { $0.thaws } }

    func freeze() throws(PipsqueakError) { state.withLock { $0.frozen = true } }
    func thaw() throws(PipsqueakError) { state.withLock { $0.frozen = false; $0.thaws += 1 } }
    func memoryUsage() -> Int64 { memory }
    func destroy() async { state.withLock { $0.destroyed = true } }
}

/// Hands out numbered fake instances and remembers them.
final class FakeFactory: Sendable {
    private let made = Mutex<[FakeInstance]>([])
    var instances: [FakeInstance] { made.withLock { $0 } }

    func make(memory: Int64 = 10 << 20) -> FakeInstance {
        made.withLock { list in
            let instance = FakeInstance(id: "i\(list.count + 1)", memory: memory)
            list.append(instance)
            return instance
        }
    }
}

@Suite struct HandlerCacheTests {
    func cache(budgetMB: Int64 = 100, freezeAfter: Duration = .seconds(3600), maxQueue: Int = 4) -> HandlerCache<FakeInstance> {
        HandlerCache(settings: .init(budgetBytes: budgetMB << 20, freezeAfter: freezeAfter, maxQueue: maxQueue))
    }

    @Test func secondRequestIsWarmAndReusesTheInstance() async throws {
        let cache = cache()
        let factory = FakeFactory()
        let first = try await cache.acquire(handler: "h", digest: "d1", maxInstances: 2) { factory.make() }
        #expect(first.start == .fresh)
        await cache.release(first, healthy: true)
        let second = try await cache.acquire(handler: "h", digest: "d1", maxInstances: 2) { factory.make() }
        #expect(second.start == .warm)
        #expect(second.instance === first.instance)
        let stats = await cache.snapshot()
        #expect(stats.hits == 1 && stats.misses == 1)
    }

    @Test func zeroBudgetDisablesCaching() async throws {
        let cache = cache(budgetMB: 0)
        let factory = FakeFactory()
        let first = try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() }
        await cache.release(first, healthy: true)
        let second = try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() }
        #expect(second.start == .fresh)
        await cache.release(second, healthy: true)
        await cache.shutdown()
        #expect(factory.instances.allSatisfy { $0.isDestroyed })
    }

    @Test func concurrentRequestsScaleOutThenQueueThenAreRejected() async throws {
        let cache = cache(maxQueue: 1)
        let factory = FakeFactory()
        let a = try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() }
        let b = try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() }
        #expect(a.instance !== b.instance)
        let queued = Task { try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() } }
        while await cache.snapshot().queued == 0 { await Task.yield() }
        do {
            _ = try await cache.acquire(handler: "h", digest: "d", maxInstances: 2) { factory.make() }
            Issue.record("expected overload")
        } catch {
            #expect(error.code == .overloaded)
        }
        await cache.release(a, healthy: true)
        let c = try await queued.value
        #expect(c.start == .warm)
        #expect(c.instance === a.instance)
        #expect(factory.instances.count == 2)
    }

    @Test func unhealthyInstancesAreDestroyed() async throws {
        let cache = cache()
        let factory = FakeFactory()
        let lease = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { factory.make() }
        await cache.release(lease, healthy: false)
        await cache.shutdown()
        #expect(factory.instances[0].isDestroyed)
        #expect(await cache.snapshot().idle == 0)
    }

    @Test func redeployNeverReusesOldCode() async throws {
        let cache = cache()
        let factory = FakeFactory()
        let old = try await cache.acquire(handler: "h", digest: "v1", maxInstances: 2) { factory.make() }
        await cache.release(old, healthy: true)
        let new = try await cache.acquire(handler: "h", digest: "v2", maxInstances: 2) { factory.make() }
        #expect(new.start == .fresh)
        #expect(new.instance !== old.instance)
        await cache.shutdown()
        #expect(factory.instances[0].isDestroyed)
    }

    @Test func busyInstanceOfOldCodeIsDestroyedOnRelease() async throws {
        let cache = cache()
        let factory = FakeFactory()
        let old = try await cache.acquire(handler: "h", digest: "v1", maxInstances: 2) { factory.make() }
        await cache.invalidate(handler: "h")
        await cache.release(old, healthy: true)
        let next = try await cache.acquire(handler: "h", digest: "v1", maxInstances: 2) { factory.make() }
        #expect(next.start == .fresh)
    }

    @Test func idleInstancesAreFrozenAndThawedOnReuse() async throws {
        let cache = cache(freezeAfter: .zero)
        let factory = FakeFactory()
        let lease = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { factory.make() }
        await cache.release(lease, healthy: true)
        await cache.maintain()
        #expect(factory.instances[0].isFrozen)
        #expect(await cache.snapshot().paused == 1)
        let again = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { factory.make() }
        #expect(again.start == .warm)
        #expect(!factory.instances[0].isFrozen)
        #expect(factory.instances[0].thaws == 1)
    }

    @Test func evictsLeastRecentlyUsedUnderMemoryPressure() async throws {
        let cache = cache(budgetMB: 25)
        let factory = FakeFactory()
        for handler in ["a", "b", "c"] {
            let lease = try await cache.acquire(handler: handler, digest: "d", maxInstances: 1) { factory.make() }
            await cache.release(lease, healthy: true)
        }
        await cache.maintain()
        let stats = await cache.snapshot()
        #expect(stats.evictions == 1)
        #expect(stats.idle == 2)
        await cache.shutdown()
        #expect(factory.instances.allSatisfy { $0.isDestroyed })
    }

    @Test func failedStartIsReportedAndFreesTheSlot() async throws {
        let cache = cache()
        let factory = FakeFactory()
        do {
            _ = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { () throws(PipsqueakError) -> FakeInstance in
                throw PipsqueakError(.handlerError, "broken")
            }
            Issue.record("expected the start error")
        } catch {
            #expect(error.code == .handlerError)
        }
        let lease = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { factory.make() }
        #expect(lease.start == .fresh)
    }

    @Test func shutdownRefusesNewWork() async {
        let cache = cache()
        await cache.shutdown()
        do {
            _ = try await cache.acquire(handler: "h", digest: "d", maxInstances: 1) { FakeInstance(id: "x") }
            Issue.record("expected shutting down")
        } catch {
            #expect(error.code == .shuttingDown)
        }
    }
}
