import Logging
import PipsqueakCache
import PipsqueakCore
import Synchronization
import Testing

/// A zygote that is only bookkeeping.
final class FakeZygote: Sendable {
    let id: String
    let packages: [PackageRef]
    let charged: Int64
    private let state = Mutex((alive: true, destroyed: false))

    init(id: String, packages: [PackageRef], charged: Int64) {
        self.id = id
        self.packages = packages
        self.charged = charged
    }

    var isAlive: Bool { state.withLock { $0.alive } }
    var isDestroyed: Bool { state.withLock { $0.destroyed } }
    func kill() { state.withLock { $0.alive = false } }
    func destroy() { state.withLock { $0.alive = false; $0.destroyed = true } }
}

final class FakeZygotes: ZygoteMechanism {
    private let made = Mutex<[FakeZygote]>([])
    let bytesPerPackage: Int64
    let failing: Set<PackageRef>

    init(bytesPerPackage: Int64 = 10 << 20, failing: Set<PackageRef> = []) {
        self.bytesPerPackage = bytesPerPackage
        self.failing = failing
    }

    var all: [FakeZygote] { made.withLock { $0 } }
    func named(_ id: String) -> FakeZygote? { all.first { $0.id == id } }

    private func make(_ id: String, _ packages: [PackageRef]) -> FakeZygote {
        let zygote = FakeZygote(id: id, packages: packages, charged: bytesPerPackage * Int64(max(1, packages.count)))
        made.withLock { $0.append(zygote) }
        return zygote
    }

    func startRoot() async throws(PipsqueakError) -> FakeZygote { make("root", []) }
    func fork(_ parent: FakeZygote, id: String, packages: [PackageRef], modules: [String]) async throws(PipsqueakError) -> FakeZygote {
        if !failing.isDisjoint(with: packages) { throw PipsqueakError(.sandboxFailed, "import failed") }
        return make(id, packages)
    }
    func isAlive(_ zygote: FakeZygote) -> Bool { zygote.isAlive }
    func chargedBytes(_ zygote: FakeZygote) -> Int64 { zygote.charged }
    func retire(_ zygote: FakeZygote) { zygote.kill() }
    func destroy(_ zygote: FakeZygote) async { zygote.destroy() }
}

@Suite struct ImportCacheTests {
    let numpy = PackageRef(name: "numpy", version: "2.4.6"), pandas = PackageRef(name: "pandas", version: "2.3.3")
    var facts: PackageFacts { PackageFacts(importSeconds: [numpy: 0.12, pandas: 0.3], modules: [numpy: ["numpy"], pandas: ["pandas"]]) }

    func cache(_ mechanism: FakeZygotes, budgetMB: Int64 = 1024) -> ImportCache<FakeZygotes> {
        ImportCache(mechanism: mechanism, settings: .init(budgetBytes: budgetMB << 20), logger: Logger(label: "test"))
    }

    func waitForZygote(_ cache: ImportCache<FakeZygotes>, holding set: Set<PackageRef>) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while await !cache.tree().contains(where: { Set($0.packages) == set && $0.alive }) {
            if ContinuousClock.now > deadline { throw PipsqueakError(.timeout, "no zygote for \(set)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func coldStartsGrowAZygoteWhichThenServesThem() async throws {
        let mechanism = FakeZygotes()
        let cache = cache(mechanism)
        try await cache.start()
        #expect(await cache.choose(closure: [numpy], facts: facts)?.id == "root")
        await cache.noteColdStart(closure: [numpy], servedBy: "root", facts: facts)
        try await waitForZygote(cache, holding: [numpy])
        let choice = try #require(await cache.choose(closure: [numpy], facts: facts))
        #expect(choice.packages == [numpy])
        await cache.forked(choice.id)
        #expect(await cache.snapshot().hits == 1)
    }

    @Test func aDeadZygoteIsRetiredButKeptWhileItsInstancesLive() async throws {
        let mechanism = FakeZygotes()
        let cache = cache(mechanism)
        try await cache.start()
        await cache.ensure([numpy], facts: facts)
        let choice = try #require(await cache.choose(closure: [numpy], facts: facts))
        await cache.forked(choice.id)
        mechanism.named(choice.id)?.kill()
        await cache.maintain(facts: facts)
        #expect(await cache.choose(closure: [numpy], facts: facts)?.id == "root", "a dead zygote serves no more forks")
        #expect(mechanism.named(choice.id)?.isDestroyed == false, "its sandbox stays while an instance lives")
        await cache.instanceEnded(choice.id)
        #expect(mechanism.named(choice.id)?.isDestroyed == true)
        #expect(await cache.snapshot().deaths == 1)
    }

    @Test func aRootThatDiesIsRestartedAndItsChildrenKeepServing() async throws {
        let mechanism = FakeZygotes()
        let cache = cache(mechanism)
        try await cache.start()
        await cache.ensure([numpy], facts: facts)
        mechanism.named("root")?.kill()
        await cache.maintain(facts: facts)
        let ids = await cache.tree().filter(\.alive).map(\.id).sorted()
        #expect(ids.contains("root-3") && ids.contains("z2"), "\(ids)")
        #expect(await cache.choose(closure: [numpy], facts: facts)?.id == "z2")
        #expect(mechanism.named("root")?.isDestroyed == false, "the dead root's sandbox holds its child's pid namespace")
    }

    @Test func evictionRetiresWholeSubtreesOverBudget() async throws {
        let mechanism = FakeZygotes(bytesPerPackage: 10 << 20)
        let cache = cache(mechanism, budgetMB: 25)
        try await cache.start()
        await cache.noteColdStart(closure: [numpy], servedBy: "root", facts: facts)
        try await waitForZygote(cache, holding: [numpy])
        await cache.noteColdStart(closure: [numpy, pandas], servedBy: nil, facts: facts)
        try await waitForZygote(cache, holding: [numpy, pandas])
        // root 10 MiB + numpy 10 MiB + numpy,pandas 20 MiB is over 25 MiB: the numpy subtree goes.
        await cache.maintain(facts: facts)
        let alive = await cache.tree().filter(\.alive).map(\.id)
        #expect(alive == ["root"], "\(alive)")
        #expect(await cache.snapshot().evictions == 2)
        #expect(mechanism.all.filter { $0.id != "root" }.allSatisfy { $0.isDestroyed })
    }

    @Test func pinnedZygotesStayAndFailedSetsAreNotRetried() async throws {
        let mechanism = FakeZygotes(bytesPerPackage: 10 << 20, failing: [pandas])
        let cache = cache(mechanism, budgetMB: 5)
        try await cache.start()
        await cache.ensure([numpy], facts: facts)
        await cache.maintain(facts: facts)
        #expect(await cache.tree().filter(\.alive).map(\.id).sorted() == ["root", "z2"], "pinned by the static tree")
        await cache.noteColdStart(closure: [numpy, pandas], servedBy: "z2", facts: facts)
        try await Task.sleep(for: .milliseconds(50))
        await cache.noteColdStart(closure: [numpy, pandas], servedBy: "z2", facts: facts)
        try await Task.sleep(for: .milliseconds(50))
        #expect(mechanism.all.count == 2, "the failing set was tried once, then never again")
    }

    @Test func shutdownDestroysEveryZygote() async throws {
        let mechanism = FakeZygotes()
        let cache = cache(mechanism)
        try await cache.start()
        await cache.ensure([numpy], facts: facts)
        await cache.shutdown()
        #expect(mechanism.all.allSatisfy { $0.isDestroyed })
        #expect(await cache.choose(closure: [numpy], facts: facts) == nil)
    }
}
