import Foundation

/// Turns a spec (and optional templates) into package plans: names, versions, the dependency DAG,
/// popularity, files and costs. Planning is sequential and cheap; writing happens later in parallel.
public struct Planner: Sendable {
    public let spec: BenchSpec
    public let templates: [PackageTemplate]

    public init(spec: BenchSpec, templates: [PackageTemplate] = []) {
        self.spec = spec
        self.templates = templates
    }

    public func plan() -> [PackagePlan] {
        let root = SeededGenerator(seed: spec.seed)
        let n = spec.packages
        let versions = Sampler(spec.versionsPerPackage)
        let degrees = Sampler(spec.dependencies)
        var plans: [PackagePlan] = []
        plans.reserveCapacity(n)
        var inDegree = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var rng = root.fork("package", i)
            let name = Naming.projectName(prefix: spec.namePrefix, index: i, using: &rng)
            let template = pickTemplate(using: &rng)
            let versionCount = Swift.max(1, versions.sampleInt(using: &rng))
            let wanted = template.map { $0.dependencies.count } ?? degrees.sampleInt(using: &rng)
            let targets = DependencyGraph.pickTargets(
                count: Swift.min(Swift.max(wanted, 0), i), among: inDegree[..<i], bias: spec.attachmentBias, using: &rng)
            for t in targets { inDegree[t] += 1 }
            let requirements = targets.map { DependencyGraph.requirement(on: plans[$0], using: &rng) }
            var plan = PackagePlan(
                index: i, name: name, importName: name.replacingOccurrences(of: "-", with: "_"),
                versions: (0..<versionCount).map(Naming.version), requirements: requirements,
                popularityRank: 0, popularity: 0, files: [], subpackages: [],
                importCpuSeconds: 0, importMemoryBytes: 0, installCpuSeconds: 0,
                compressionRatio: 0, nativeCompressionRatio: 0, hasWheel: true, hasSdist: spec.sdists, template: nil)
            var costs = root.fork("costs", i)
            plan.importCpuSeconds = Sampler(spec.importCpuSeconds).sample(using: &costs)
            plan.importMemoryBytes = Swift.max(0, Sampler(spec.importMemoryBytes).sampleInt(using: &costs))
            plan.installCpuSeconds = Sampler(spec.installCpuSeconds).sample(using: &costs)
            plan.compressionRatio = Sampler(spec.compressionRatio).sample(using: &costs)
            plan.nativeCompressionRatio = Sampler(spec.nativeCompressionRatio).sample(using: &costs)
            if costs.nextUnit() < spec.sdistOnlyFraction {
                plan.hasWheel = false
                plan.hasSdist = true
            }
            var fileRng = root.fork("files", i)
            if let template {
                FileLayout.stamp(template, into: &plan)
            } else {
                FileLayout.generate(spec: spec, into: &plan, using: &fileRng)
            }
            plans.append(plan)
        }
        assignPopularity(&plans, inDegree: inDegree, using: root.fork("popularity"))
        return plans
    }

    private func pickTemplate(using rng: inout SeededGenerator) -> PackageTemplate? {
        guard !templates.isEmpty, spec.templateFraction > 0 else { return nil }
        guard rng.nextUnit() < spec.templateFraction else { return nil }
        return templates[Int(rng.next() % UInt64(templates.count))]
    }

    /// Ranks packages by in-degree (most depended-upon first) and gives them popularity weights.
    private func assignPopularity(_ plans: inout [PackagePlan], inDegree: [Int], using rng: SeededGenerator) {
        var rng = rng
        let order = plans.indices.sorted { inDegree[$0] != inDegree[$1] ? inDegree[$0] > inDegree[$1] : $0 < $1 }
        let weights = Sampler(spec.popularity).rankWeights(count: plans.count, using: &rng)
        let total = Swift.max(weights.reduce(0, +), .leastNonzeroMagnitude)
        for (rank, index) in order.enumerated() {
            plans[index].popularityRank = rank + 1
            plans[index].popularity = weights[rank] / total
        }
    }
}
