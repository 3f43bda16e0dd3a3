import Foundation
import Logging
import PipsqueakCore

/// Tier 2: a tree of zygotes (sleeping interpreters with packages imported) that handler instances are forked from.
///
/// This actor keeps the tree's books and applies `ImportCachePolicy`; the `ZygoteMechanism` starts and forks the
/// processes. A zygote whose interpreter stops (evicted, or dead) is retired: it serves no more forks, and its
/// sandbox stays until no instance or child zygote depends on it (they live in its pid namespace).
public actor ImportCache<Mechanism: ZygoteMechanism> {
    public struct Settings: Sendable {
        public var budgetBytes: Int64
        public var growth: ImportCachePolicy.GrowthSettings
        public var vetted: VettedPackages

        public init(budgetBytes: Int64, growth: ImportCachePolicy.GrowthSettings = .init(), vetted: VettedPackages = .init()) {
            self.budgetBytes = budgetBytes
            self.growth = growth
            self.vetted = vetted
        }
    }

    public struct Stats: Sendable, Codable, Equatable {
        public var hits = 0
        public var misses = 0
        public var forks = 0
        public var evictions = 0
        public var deaths = 0
        public var failedForks = 0
        public init() {}
    }

    /// A zygote chosen for a cold start.
    public struct Choice: Sendable {
        public let id: String
        public let zygote: Mechanism.Zygote
        public let packages: Set<PackageRef>
    }

    /// One node of the tree, for status pages.
    public struct TreeNode: Sendable {
        public let id: String
        /// The nearest live ancestor.
        public let parent: String?
        public let packages: [PackageRef]
        public let zygote: Mechanism.Zygote
        public let alive: Bool
        public let pinned: Bool
        public let hits: Int
        public let instances: Int
        public let chargedBytes: Int64
        public let createdAt: ContinuousClock.Instant
    }

    private struct Entry {
        var id: String
        var zygote: Mechanism.Zygote
        /// The zygote it was forked from (its pid namespace's parent); kept while this entry exists.
        var physicalParent: String?
        var packages: Set<PackageRef>
        var alive = true
        var pinned = false
        var hits = 0
        var lastUsed: UInt64 = 0
        var instances = 0
        var chargedBytes: Int64 = 0
        var createdAt = ContinuousClock.now
    }

    public let settings: Settings
    private let mechanism: Mechanism
    private let logger: Logger
    private let onCreated: @Sendable (String) -> Void
    private var entries: [String: Entry] = [:]
    private var rootID: String?
    private var wasted: [Set<PackageRef>: Double] = [:]
    private var growing: Set<Set<PackageRef>> = []
    private var failedSets: Set<Set<PackageRef>> = []
    private var sequence = 0
    private var stats = Stats()
    private var shuttingDown = false
    private let epoch = ContinuousClock.now

    /// `onCreated` is told the id of every zygote the tree grows, so sandboxes can be prepared for it.
    public init(mechanism: Mechanism, settings: Settings, logger: Logger, onCreated: @escaping @Sendable (String) -> Void = { _ in }) {
        self.mechanism = mechanism
        self.settings = settings
        self.logger = logger
        self.onCreated = onCreated
    }

    private var now: UInt64 { UInt64((ContinuousClock.now - epoch).nanoseconds) }

    /// Starts the root zygote if none is alive.
    public func start() async throws(PipsqueakError) {
        if let rootID, entries[rootID]?.alive == true { return }
        let zygote = try await mechanism.startRoot()
        if shuttingDown {
            await mechanism.destroy(zygote)
            throw PipsqueakError(.shuttingDown, "the worker is shutting down")
        }
        sequence += 1
        let id = sequence == 1 ? "root" : "root-\(sequence)"
        entries[id] = Entry(id: id, zygote: zygote, physicalParent: nil, packages: [])
        rootID = id
    }

    // MARK: serving cold starts

    /// The live zygote that saves `closure` the most import time, admissible under the subset rule.
    public func choose(closure: Set<PackageRef>, facts: PackageFacts) -> Choice? {
        guard !shuttingDown,
              let node = ImportCachePolicy.select(policyNodes(), closure: closure, vetted: settings.vetted, importSeconds: facts.importSeconds),
              let entry = entries[node.id] else { return nil }
        return Choice(id: entry.id, zygote: entry.zygote, packages: entry.packages)
    }

    /// The zygote forked an instance, which now depends on it until `instanceEnded`.
    public func forked(_ id: String) {
        guard entries[id] != nil else { return }
        entries[id]?.hits += 1
        entries[id]?.instances += 1
        entries[id]?.lastUsed = now
        stats.hits += 1
        stats.forks += 1
    }

    /// An instance forked from zygote `id` was destroyed.
    public func instanceEnded(_ id: String) async {
        guard let count = entries[id]?.instances, count > 0 else { return }
        entries[id]?.instances = count - 1
        await collect(id)
    }

    /// A fork from zygote `id` failed; a zygote whose interpreter died is retired.
    public func forkFailed(_ id: String) async {
        stats.failedForks += 1
        guard let entry = entries[id], entry.alive, !mechanism.isAlive(entry.zygote) else { return }
        stats.deaths += 1
        logger.warning("zygote died", metadata: ["zygote": "\(id)"])
        await retire([id])
    }

    /// Records a cold start of `closure` that `servedBy` (nil: a fresh interpreter) served, and grows the tree
    /// once cold starts lacking a package set have wasted enough import time.
    public func noteColdStart(closure: Set<PackageRef>, servedBy id: String?, facts: PackageFacts) {
        if id == nil { stats.misses += 1 }
        guard !shuttingDown else { return }
        let served = id.flatMap { entries[$0]?.packages }
        let desired = ImportCachePolicy.desiredSet(closure: closure, importSeconds: facts.importSeconds)
        let remaining = ImportCachePolicy.remainingSeconds(closure: desired, servedBy: served, importSeconds: facts.importSeconds)
        guard remaining > 0, served != desired else { return }
        wasted[desired, default: 0] += remaining
        grow(desired, facts: facts, pinned: false)
    }

    /// Creates a zygote for `set` now, under its best parent, and keeps it from eviction (the static tree).
    public func ensure(_ set: Set<PackageRef>, facts: PackageFacts) async {
        if let existing = entries.values.first(where: { $0.alive && $0.packages == set }) {
            entries[existing.id]?.pinned = true
            return
        }
        failedSets.remove(set)
        wasted[set] = .infinity
        await grow(set, facts: facts, pinned: true)?.value
    }

    @discardableResult
    private func grow(_ set: Set<PackageRef>, facts: PackageFacts, pinned: Bool) -> Task<Void, Never>? {
        guard !growing.contains(set), !failedSets.contains(set) else { return nil }
        let nodes = policyNodes()
        // The static tree is the operator's choice: its zygotes need no misses and no minimum import time.
        let chosen = pinned
            ? (nodes.contains { $0.packages == set } ? nil
                : ImportCachePolicy.select(nodes, closure: set, vetted: VettedPackages(), importSeconds: facts.importSeconds))
            : ImportCachePolicy.parentForGrowth(nodes, set: set, wastedSeconds: wasted[set, default: 0],
                                                importSeconds: facts.importSeconds, settings: settings.growth)
        guard let parent = chosen, let parentEntry = entries[parent.id] else { return nil }
        growing.insert(set)
        sequence += 1
        let id = "z\(sequence)"
        let added = set.subtracting(parentEntry.packages).sorted()
        let modules = added.flatMap { facts.modules[$0] ?? [] }
        let mechanism = self.mechanism
        let zygote = parentEntry.zygote
        return Task {
            do throws(PipsqueakError) {
                let child = try await mechanism.fork(zygote, id: id, packages: set.sorted(), modules: modules)
                await self.grew(id: id, zygote: child, parent: parent.id, set: set, pinned: pinned)
            } catch {
                self.failedToGrow(set, error: error)
            }
        }
    }

    private func grew(id: String, zygote: Mechanism.Zygote, parent: String, set: Set<PackageRef>, pinned: Bool) async {
        growing.remove(set)
        wasted[set] = nil
        if shuttingDown || entries[parent] == nil {
            await mechanism.destroy(zygote)
            return
        }
        entries[id] = Entry(id: id, zygote: zygote, physicalParent: parent, packages: set, pinned: pinned)
        logger.info("import cache grew", metadata: ["zygote": "\(id)", "parent": "\(parent)", "packages": "\(set.sorted().map(\.description))"])
        onCreated(id)
    }

    private func failedToGrow(_ set: Set<PackageRef>, error: PipsqueakError) {
        growing.remove(set)
        failedSets.insert(set)
        logger.warning("could not create a zygote", metadata: ["packages": "\(set.sorted().map(\.description))", "error": "\(error)"])
    }

    // MARK: upkeep

    /// Detects dead zygotes, samples memory, and evicts subtrees beyond the budget.
    public func maintain(facts: PackageFacts) async {
        let dead = entries.values.filter { $0.alive && !mechanism.isAlive($0.zygote) }.map(\.id)
        if !dead.isEmpty {
            stats.deaths += dead.count
            logger.warning("zygotes died", metadata: ["zygotes": "\(dead.sorted())"])
            await retire(dead)
        }
        if rootID == nil && !shuttingDown {
            do {
                try await start()
                logger.notice("root zygote restarted")
            } catch {
                logger.error("cannot restart the root zygote", metadata: ["error": "\(error)"])
            }
        }
        for (id, entry) in entries where entry.alive { entries[id]?.chargedBytes = mechanism.chargedBytes(entry.zygote) }
        let victims = ImportCachePolicy.evictions(policyNodes(), budgetBytes: settings.budgetBytes, importSeconds: facts.importSeconds)
        guard !victims.isEmpty else { return }
        let nodes = policyNodes()
        var children: [String: [String]] = [:]
        for node in nodes { if let parent = node.parent { children[parent, default: []].append(node.id) } }
        var retiring: [String] = []
        for victim in victims { retiring += subtree(victim, children: children) }
        stats.evictions += retiring.count
        logger.info("import cache evicted", metadata: ["zygotes": "\(retiring.sorted())"])
        await retire(retiring)
    }

    /// The tree, for `GET /zygotes`.
    public func tree() -> [TreeNode] {
        let logicalParent = Dictionary(policyNodes().map { ($0.id, $0.parent) }, uniquingKeysWith: { first, _ in first })
        return entries.values.sorted { $0.id < $1.id }.map { entry in
            TreeNode(id: entry.id, parent: logicalParent[entry.id] ?? entry.physicalParent, packages: entry.packages.sorted(),
                     zygote: entry.zygote, alive: entry.alive, pinned: entry.pinned, hits: entry.hits, instances: entry.instances,
                     chargedBytes: entry.chargedBytes, createdAt: entry.createdAt)
        }
    }

    public func snapshot() -> Stats { stats }

    /// Distributions mounted in live zygotes; the store keeps them.
    public func packagesInUse() -> Set<PackageRef> { Set(entries.values.flatMap(\.packages)) }

    /// Stops every zygote and removes every sandbox.
    public func shutdown() async {
        shuttingDown = true
        let all = entries.values.map(\.zygote)
        entries = [:]
        for zygote in all { mechanism.retire(zygote) }
        for zygote in all { await mechanism.destroy(zygote) }
    }

    // MARK: internals

    /// Live zygotes with their nearest live ancestor as parent.
    private func policyNodes() -> [ImportCachePolicy.Node] {
        entries.values.filter(\.alive).map { entry in
            var parent = entry.physicalParent
            while let id = parent, entries[id]?.alive != true { parent = entries[id]?.physicalParent }
            return ImportCachePolicy.Node(id: entry.id, parent: parent, packages: entry.packages, hits: entry.hits, lastUsed: entry.lastUsed,
                                          chargedBytes: entry.chargedBytes, pinned: entry.pinned || entry.id == rootID)
        }.map { node in
            // The policy keeps the root; a live zygote whose ancestors all died is a root of its own for it.
            var node = node
            if node.id != rootID, node.parent == nil { node.parent = rootID }
            return node
        }
    }

    private func subtree(_ id: String, children: [String: [String]]) -> [String] {
        var result = [id], index = 0
        while index < result.count {
            result += children[result[index], default: []]
            index += 1
        }
        return result
    }

    private func retire(_ ids: [String]) async {
        for id in ids {
            guard let entry = entries[id], entry.alive else { continue }
            entries[id]?.alive = false
            mechanism.retire(entry.zygote)
            if id == rootID { rootID = nil }
        }
        for id in ids { await collect(id) }
    }

    /// Removes a retired entry once nothing depends on it, then its parent if that was its last dependent.
    private func collect(_ id: String) async {
        var next: String? = id
        while let current = next, let entry = entries[current], !entry.alive, entry.instances == 0,
              !entries.values.contains(where: { $0.physicalParent == current }) {
            entries[current] = nil
            await mechanism.destroy(entry.zygote)
            next = entry.physicalParent
        }
    }
}
