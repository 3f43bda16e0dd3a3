import PipsqueakCore

/// Packages an operator has vetted: they may be present in a zygote that serves a handler that does not depend
/// on them. By name (any version) or by exact version.
public struct VettedPackages: Sendable, Equatable {
    public var names: Set<String>
    public var exact: Set<PackageRef>

    public init(names: Set<String> = [], exact: Set<PackageRef> = []) {
        self.names = names
        self.exact = exact
    }

    /// From config entries such as `six` or `numpy==2.4.6` (names normalized as PEP 503 says).
    public init(entries: [String]) {
        var names = Set<String>(), exact = Set<PackageRef>()
        for entry in entries {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: true)
            if entry.contains("=="), parts.count == 2 {
                exact.insert(PackageRef(name: String(parts[0]), version: String(parts[1])))
            } else {
                names.insert(PackageRef.normalize(entry))
            }
        }
        self.init(names: names, exact: exact)
    }

    public func contains(_ ref: PackageRef) -> Bool { names.contains(ref.name) || exact.contains(ref) }
}

/// The import cache's decisions, as pure functions of a snapshot of the zygote tree: no clocks, no processes.
public enum ImportCachePolicy {
    /// A zygote as the policy sees it.
    public struct Node: Sendable, Equatable {
        public var id: String
        /// The nearest live ancestor (nil for the root).
        public var parent: String?
        public var packages: Set<PackageRef>
        /// Instances forked from it.
        public var hits: Int
        /// Larger is more recent.
        public var lastUsed: UInt64
        /// Bytes charged to its cgroup: the pages it touched first.
        public var chargedBytes: Int64
        /// Configured in the static tree: never evicted.
        public var pinned: Bool

        public init(id: String, parent: String?, packages: Set<PackageRef>, hits: Int = 0, lastUsed: UInt64 = 0, chargedBytes: Int64 = 0,
                    pinned: Bool = false) {
            self.id = id
            self.parent = parent
            self.packages = packages
            self.hits = hits
            self.lastUsed = lastUsed
            self.chargedBytes = chargedBytes
            self.pinned = pinned
        }

        public var isRoot: Bool { parent == nil }
    }

    // MARK: the subset rule

    /// Whether a zygote holding `zygote` may serve a handler whose locked closure is `closure`: every package in
    /// the zygote is in the closure at that exact version, or vetted and not in the closure at another version
    /// (the zygote's copy would shadow the handler's).
    public static func isAdmissible(_ zygote: Set<PackageRef>, for closure: Set<PackageRef>, vetted: VettedPackages) -> Bool {
        let closureNames = Set(closure.map(\.name))
        return zygote.allSatisfy { ref in
            closure.contains(ref) || (vetted.contains(ref) && !closureNames.contains(ref.name))
        }
    }

    // MARK: candidate selection

    /// Import seconds a zygote saves a handler: what it already imported of the handler's closure.
    public static func savedSeconds(_ zygote: Set<PackageRef>, closure: Set<PackageRef>, importSeconds: [PackageRef: Double]) -> Double {
        zygote.intersection(closure).reduce(0) { $0 + importSeconds[$1, default: 0] }
    }

    /// Among admissible zygotes, the one that saves the most measured import time; ties go to the one holding more
    /// packages, then the most recently used, then the smallest id. Nil if none is admissible.
    public static func select(_ nodes: [Node], closure: Set<PackageRef>, vetted: VettedPackages,
                              importSeconds: [PackageRef: Double]) -> Node? {
        nodes.filter { isAdmissible($0.packages, for: closure, vetted: vetted) }.max { a, b in
            let savedA = savedSeconds(a.packages, closure: closure, importSeconds: importSeconds)
            let savedB = savedSeconds(b.packages, closure: closure, importSeconds: importSeconds)
            if savedA != savedB { return savedA < savedB }
            if a.packages.count != b.packages.count { return a.packages.count < b.packages.count }
            if a.lastUsed != b.lastUsed { return a.lastUsed < b.lastUsed }
            return a.id > b.id
        }
    }

    // MARK: tree growth

    public struct GrowthSettings: Sendable, Equatable {
        /// Create a zygote for a package set once cold starts lacking it have spent this many seconds importing it.
        public var wastedSecondsThreshold: Double
        /// A set whose import (beyond its best parent) is cheaper than this never gets a zygote.
        public var minimumImportSeconds: Double
        /// At most this many zygotes, the root included.
        public var maxZygotes: Int

        public init(wastedSecondsThreshold: Double = 0.1, minimumImportSeconds: Double = 0.005, maxZygotes: Int = 32) {
            self.wastedSecondsThreshold = wastedSecondsThreshold
            self.minimumImportSeconds = minimumImportSeconds
            self.maxZygotes = maxZygotes
        }
    }

    /// The package set a zygote for this closure would hold: the distributions that take time to import.
    public static func desiredSet(closure: Set<PackageRef>, importSeconds: [PackageRef: Double]) -> Set<PackageRef> {
        closure.filter { importSeconds[$0, default: 0] > 0 }
    }

    /// Import seconds a cold start of `closure` still spends after forking from its best zygote.
    public static func remainingSeconds(closure: Set<PackageRef>, servedBy zygote: Set<PackageRef>?, importSeconds: [PackageRef: Double]) -> Double {
        closure.subtracting(zygote ?? []).reduce(0) { $0 + importSeconds[$1, default: 0] }
    }

    /// The parent to fork a zygote for `set` from, if one should be created now: the set is not held yet, the cold
    /// starts lacking it have wasted `wastedSeconds` past the threshold, the import beyond the parent is worth it,
    /// and the tree has room.
    public static func parentForGrowth(_ nodes: [Node], set: Set<PackageRef>, wastedSeconds: Double, importSeconds: [PackageRef: Double],
                                       settings: GrowthSettings) -> Node? {
        guard !set.isEmpty, nodes.count < settings.maxZygotes, wastedSeconds >= settings.wastedSecondsThreshold,
              !nodes.contains(where: { $0.packages == set }) else { return nil }
        // Vetted extras never go into a new zygote: its set must be exactly the handlers' packages.
        guard let parent = select(nodes, closure: set, vetted: VettedPackages(), importSeconds: importSeconds) else { return nil }
        let extra = set.subtracting(parent.packages).reduce(0) { $0 + importSeconds[$1, default: 0] }
        return extra >= settings.minimumImportSeconds ? parent : nil
    }

    // MARK: eviction

    /// Seconds of importing a zygote saves each handler it serves beyond what its parent saves.
    static func marginalSeconds(_ node: Node, in nodes: [String: Node], importSeconds: [PackageRef: Double]) -> Double {
        let inherited = node.parent.flatMap { nodes[$0]?.packages } ?? []
        return node.packages.subtracting(inherited).reduce(0) { $0 + importSeconds[$1, default: 0] }
    }

    /// Every node of the subtree under `id`, `id` included.
    static func subtree(_ id: String, children: [String: [String]]) -> [String] {
        var result = [id], index = 0
        while index < result.count {
            result += children[result[index], default: []]
            index += 1
        }
        return result
    }

    /// Subtrees to evict, each named by its top node, until the memory charged to the tree fits `budgetBytes`.
    ///
    /// Zygotes share pages copy-on-write, so evicting one alone frees little when its children keep its pages;
    /// the candidates are whole subtrees (a leaf is a subtree too), scored by the import time they save per byte
    /// they free: (hits + 1) × marginal import seconds, summed over the subtree, over the bytes charged to it.
    /// The lowest score goes first; ties go to the least recently used. The root and pinned zygotes stay.
    public static func evictions(_ nodes: [Node], budgetBytes: Int64, importSeconds: [PackageRef: Double]) -> [String] {
        var live = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var total = nodes.reduce(Int64(0)) { $0 + $1.chargedBytes }
        var victims: [String] = []
        while total > budgetBytes {
            var children: [String: [String]] = [:]
            for node in live.values { if let parent = node.parent { children[parent, default: []].append(node.id) } }
            var best: (id: String, score: Double, lastUsed: UInt64, freed: Int64)?
            for node in live.values where !node.isRoot {
                let members = subtree(node.id, children: children).compactMap { live[$0] }
                if members.contains(where: \.pinned) { continue }
                let freed = members.reduce(Int64(0)) { $0 + $1.chargedBytes }
                guard freed > 0 else { continue }
                let benefit = members.reduce(0.0) { $0 + Double($1.hits + 1) * marginalSeconds($1, in: live, importSeconds: importSeconds) }
                let score = benefit / Double(freed)
                let lastUsed = members.map(\.lastUsed).max() ?? 0
                if let current = best, (current.score, current.lastUsed, current.id) <= (score, lastUsed, node.id) { continue }
                best = (node.id, score, lastUsed, freed)
            }
            guard let chosen = best else { break }
            victims.append(chosen.id)
            for id in subtree(chosen.id, children: children) { live[id] = nil }
            total -= chosen.freed
        }
        return victims
    }
}
