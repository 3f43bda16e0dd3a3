import Foundation

/// The dependency DAG: package i may depend only on packages before it, so there are no cycles.
enum DependencyGraph {
    /// Picks `count` distinct earlier packages, each with weight (in-degree + 1)^bias.
    static func pickTargets(count: Int, among inDegree: ArraySlice<Int>, bias: Double, using rng: inout SeededGenerator) -> [Int] {
        guard count > 0 else { return [] }
        let weights = inDegree.map { bias == 0 ? 1 : pow(Double($0 + 1), bias) }
        return rng.distinctIndices(count: count, weights: weights).sorted()
    }

    /// A specifier that always admits the dependency's latest release, so resolution never fails:
    /// 40% unpinned, 40% a lower bound, 20% a lower bound and an upper major bound.
    static func requirement(on dependency: PackagePlan, using rng: inout SeededGenerator) -> PackagePlan.Requirement {
        let roll = rng.nextUnit()
        let lower = dependency.versions[Int(rng.next() % UInt64(dependency.versions.count))]
        let specifier: String
        if roll < 0.4 {
            specifier = ""
        } else if roll < 0.8 {
            specifier = ">=\(lower)"
        } else {
            let major = Int(dependency.latestVersion.split(separator: ".")[0])! + 1
            specifier = ">=\(lower),<\(major)"
        }
        return .init(name: dependency.name, specifier: specifier)
    }
}
