import PipsqueakCache
import PipsqueakCore
import Testing

@Suite struct ImportCachePolicyTests {
    let numpy = PackageRef(name: "numpy", version: "2.4.6"), oldNumpy = PackageRef(name: "numpy", version: "1.26.4")
    let pandas = PackageRef(name: "pandas", version: "2.3.3"), six = PackageRef(name: "six", version: "1.17.0")
    let evil = PackageRef(name: "evil", version: "1.0")
    var seconds: [PackageRef: Double] { [numpy: 0.12, oldNumpy: 0.1, pandas: 0.3, six: 0.002, evil: 0.05] }

    func node(_ id: String, _ parent: String?, _ packages: Set<PackageRef>, hits: Int = 0, lastUsed: UInt64 = 0, bytes: Int64 = 0,
              pinned: Bool = false) -> ImportCachePolicy.Node {
        .init(id: id, parent: parent, packages: packages, hits: hits, lastUsed: lastUsed, chargedBytes: bytes, pinned: pinned)
    }

    @Test func aZygoteWithAnExtraPackageNeverServesAHandlerWithoutIt() {
        #expect(ImportCachePolicy.isAdmissible([numpy], for: [numpy, six], vetted: .init()))
        #expect(!ImportCachePolicy.isAdmissible([numpy, evil], for: [numpy, six], vetted: .init()))
        let tree = [node("root", nil, []), node("np+evil", "root", [numpy, evil])]
        #expect(ImportCachePolicy.select(tree, closure: [numpy], vetted: .init(), importSeconds: seconds)?.id == "root")
    }

    @Test func anotherVersionIsNeverUsed() {
        #expect(!ImportCachePolicy.isAdmissible([oldNumpy], for: [numpy], vetted: .init()))
        // Not even when vetted: the zygote's numpy would shadow the handler's own version.
        #expect(!ImportCachePolicy.isAdmissible([oldNumpy], for: [numpy], vetted: .init(names: ["numpy"])))
    }

    @Test func aVettedExtraIsAllowed() {
        let vetted = VettedPackages(entries: ["Six", "evil==1.0"])
        #expect(vetted.contains(six) && vetted.contains(evil) && !vetted.contains(numpy))
        #expect(ImportCachePolicy.isAdmissible([numpy, six], for: [numpy], vetted: vetted))
        #expect(ImportCachePolicy.isAdmissible([numpy, evil], for: [numpy], vetted: vetted))
        #expect(!ImportCachePolicy.isAdmissible([numpy, PackageRef(name: "evil", version: "2.0")], for: [numpy], vetted: vetted))
    }

    @Test func selectionSavesTheMostImportTime() {
        let tree = [node("root", nil, []), node("np", "root", [numpy]), node("six", "root", [six]), node("np-pd", "np", [numpy, pandas])]
        #expect(ImportCachePolicy.select(tree, closure: [numpy, pandas, six], vetted: .init(), importSeconds: seconds)?.id == "np-pd")
        #expect(ImportCachePolicy.select(tree, closure: [numpy, six], vetted: .init(), importSeconds: seconds)?.id == "np")
        #expect(ImportCachePolicy.select(tree, closure: [six], vetted: .init(), importSeconds: seconds)?.id == "six")
        #expect(ImportCachePolicy.select(tree, closure: [], vetted: .init(), importSeconds: seconds)?.id == "root")
        #expect(ImportCachePolicy.select([], closure: [numpy], vetted: .init(), importSeconds: seconds) == nil)
    }

    @Test func growthWaitsUntilMissesHaveCostEnough() {
        let tree = [node("root", nil, [])]
        let settings = ImportCachePolicy.GrowthSettings(wastedSecondsThreshold: 0.1, minimumImportSeconds: 0.005, maxZygotes: 4)
        #expect(ImportCachePolicy.parentForGrowth(tree, set: [numpy], wastedSeconds: 0.05, importSeconds: seconds, settings: settings) == nil)
        #expect(ImportCachePolicy.parentForGrowth(tree, set: [numpy], wastedSeconds: 0.12, importSeconds: seconds, settings: settings)?.id == "root")
        // A set that imports in microseconds is not worth a zygote, however often it misses.
        #expect(ImportCachePolicy.parentForGrowth(tree, set: [six], wastedSeconds: 10, importSeconds: [six: 0.001], settings: settings) == nil)
    }

    @Test func growthForksTheBestAdmissibleParentAndRespectsTheLimit() {
        let tree = [node("root", nil, []), node("np", "root", [numpy])]
        let settings = ImportCachePolicy.GrowthSettings(wastedSecondsThreshold: 0.1, minimumImportSeconds: 0.005, maxZygotes: 3)
        #expect(ImportCachePolicy.parentForGrowth(tree, set: [numpy, pandas], wastedSeconds: 1, importSeconds: seconds, settings: settings)?.id == "np")
        #expect(ImportCachePolicy.parentForGrowth(tree, set: [numpy], wastedSeconds: 1, importSeconds: seconds, settings: settings) == nil, "held already")
        let full = tree + [node("six", "root", [six])]
        #expect(ImportCachePolicy.parentForGrowth(full, set: [numpy, pandas], wastedSeconds: 1, importSeconds: seconds, settings: settings) == nil)
    }

    @Test func desiredSetsSkipPackagesThatCostNothingToImport() {
        let data = PackageRef(name: "tzdata", version: "2025.2")
        #expect(ImportCachePolicy.desiredSet(closure: [numpy, data], importSeconds: [numpy: 0.1, data: 0]) == [numpy])
        #expect(ImportCachePolicy.remainingSeconds(closure: [numpy, pandas], servedBy: [numpy], importSeconds: seconds) == 0.3)
    }

    /// Greedy per-entry eviction fails here: evicting the numpy zygote alone frees nothing while its children keep
    /// its 100 MB of shared pages, and evicting the leaves alone frees 5 MB each. Whole subtrees are the candidates:
    /// the numpy zygote goes only with its children, and the busy pandas zygote stays.
    @Test func evictionConsidersWholeSubtrees() {
        let tree = [
            node("root", nil, [], bytes: 10 << 20),
            node("np", "root", [numpy], hits: 1, lastUsed: 5, bytes: 100 << 20),
            node("np-six", "np", [numpy, six], hits: 0, lastUsed: 3, bytes: 5 << 20),
            node("np-evil", "np", [numpy, evil], hits: 0, lastUsed: 4, bytes: 5 << 20),
            node("pd", "root", [pandas], hits: 50, lastUsed: 9, bytes: 60 << 20),
        ]
        let victims = ImportCachePolicy.evictions(tree, budgetBytes: 80 << 20, importSeconds: seconds)
        #expect(victims.contains("np"), "\(victims)")
        #expect(Set(victims).isSubset(of: ["np", "np-six", "np-evil"]), "only the numpy subtree goes: \(victims)")
        // What stays fits, and no survivor lost its parent.
        let evicted = Set(["np", "np-six", "np-evil"])
        let kept = tree.filter { !evicted.contains($0.id) }
        #expect(kept.reduce(Int64(0)) { $0 + $1.chargedBytes } <= 80 << 20)
        #expect(ImportCachePolicy.evictions(tree, budgetBytes: 200 << 20, importSeconds: seconds) == [])
    }

    @Test func aParentIsNeverEvictedWithoutItsChildren() {
        // The parent alone has the worst benefit per byte, but it is only a candidate together with its child.
        let tree = [node("root", nil, []), node("np", "root", [numpy], hits: 0, bytes: 100 << 20),
                    node("np-pd", "np", [numpy, pandas], hits: 40, bytes: 50 << 20), node("six", "root", [six], hits: 0, bytes: 1 << 20)]
        let victims = ImportCachePolicy.evictions(tree, budgetBytes: 100 << 20, importSeconds: seconds)
        #expect(victims.contains("np") && !victims.contains("np-pd"), "np names the whole subtree: \(victims)")
    }

    @Test func evictionKeepsTheRootAndPinnedZygotes() {
        let tree = [node("root", nil, [], bytes: 10 << 20), node("np", "root", [numpy], bytes: 100 << 20, pinned: true),
                    node("six", "root", [six], bytes: 4 << 20)]
        #expect(ImportCachePolicy.evictions(tree, budgetBytes: 0, importSeconds: seconds) == ["six"])
    }

    @Test func leastRecentlyUsedBreaksTies() {
        let tree = [node("root", nil, []), node("a", "root", [six], lastUsed: 7, bytes: 1 << 20), node("b", "root", [six], lastUsed: 2, bytes: 1 << 20)]
        #expect(ImportCachePolicy.evictions(tree, budgetBytes: 1 << 20, importSeconds: seconds) == ["b"])
    }
}
