import Foundation
import Testing
@testable import PipBench

@Suite struct GeneratorTests {
    @Test func dependencyGraphIsAcyclicAndPointsBackwards() {
        var spec = TestSupport.smallSpec(packages: 200)
        spec.dependencies = Distribution(.uniform(low: 0, high: 6))
        let plans = Planner(spec: spec).plan()
        let indexByName = Dictionary(uniqueKeysWithValues: plans.map { ($0.name, $0.index) })
        for plan in plans {
            let targets = plan.requirements.map { indexByName[$0.name]! }
            #expect(targets.allSatisfy { $0 < plan.index })
            #expect(Set(targets).count == targets.count)
        }
        #expect(plans.contains { !$0.requirements.isEmpty })
    }

    @Test func dependencyClosureFollowsRequirementsTransitively() {
        var spec = TestSupport.smallSpec(packages: 60)
        spec.dependencies = Distribution(.uniform(low: 0, high: 3))
        let plans = Planner(spec: spec).plan()
        for plan in plans {
            let closure = plans.dependencyClosure(of: plan.name)
            #expect(closure.contains(plan.name))
            // Closed under requirements, and nothing beyond: every member but the root is some member's requirement.
            let required = Set(plans.filter { closure.contains($0.name) }.flatMap { $0.requirements.map(\.name) })
            #expect(required.isSubset(of: closure))
            #expect(closure.subtracting([plan.name]).isSubset(of: required))
        }
        #expect(plans.contains { plans.dependencyClosure(of: $0.name).count > $0.requirements.count + 1 }, "some closure is deeper than one level")
    }

    @Test func preferentialAttachmentConcentratesInDegree() {
        func topShare(bias: Double) -> Double {
            var spec = TestSupport.smallSpec(packages: 400)
            spec.dependencies = .constant(3)
            spec.attachmentBias = bias
            let plans = Planner(spec: spec).plan()
            var counts: [String: Int] = [:]
            for plan in plans { for r in plan.requirements { counts[r.name, default: 0] += 1 } }
            let sorted = counts.values.sorted(by: >)
            return Double(sorted.prefix(10).reduce(0, +)) / Double(sorted.reduce(0, +))
        }
        #expect(topShare(bias: 1.5) > topShare(bias: 0) * 1.5)
    }

    @Test func popularityFollowsInDegreeAndSumsToOne() {
        let plans = Planner(spec: TestSupport.smallSpec(packages: 100)).plan()
        let total = plans.reduce(0) { $0 + $1.popularity }
        #expect(abs(total - 1) < 1e-9)
        let top = plans.min { $0.popularityRank < $1.popularityRank }!
        #expect(plans.allSatisfy { $0.popularity <= top.popularity })
        #expect(Set(plans.map(\.popularityRank)) == Set(1...100))
    }

    @Test func requirementsAlwaysAdmitTheLatestRelease() throws {
        var spec = TestSupport.smallSpec(packages: 150)
        spec.versionsPerPackage = Distribution(.uniform(low: 1, high: 9))
        spec.dependencies = .constant(3)
        let plans = Planner(spec: spec).plan()
        let byName = Dictionary(uniqueKeysWithValues: plans.map { ($0.name, $0) })
        for requirement in plans.flatMap(\.requirements) {
            let latest = byName[requirement.name]!.latestVersion
            #expect(VersionCheck.satisfies(latest, requirement.specifier), "\(latest) vs \(requirement.specifier)")
        }
    }

    @Test func generationIsDeterministicForASeed() throws {
        let spec = TestSupport.smallSpec(packages: 8)
        let a = try TestSupport.generate(spec), b = try TestSupport.generate(spec)
        var other = spec
        other.seed += 1
        let c = try TestSupport.generate(other)
        defer { for u in [a, b, c] { try? FileManager.default.removeItem(at: u) } }
        #expect(try Self.treeDigest(a) == Self.treeDigest(b))
        #expect(try Self.treeDigest(a) != Self.treeDigest(c))
    }

    /// Maps every file's relative path to its sha256.
    static func treeDigest(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        while let url = enumerator.nextObject() as? URL {
            guard !url.hasDirectoryPath else { continue }
            result[String(url.path.dropFirst(root.path.count))] = ReleaseBuilder.hexDigest(Array(try Data(contentsOf: url)))
        }
        return result
    }
}

/// Just enough of PEP 440 comparison for the generated `>=X.Y.Z,<M` specifiers.
enum VersionCheck {
    static func satisfies(_ version: String, _ specifier: String) -> Bool {
        specifier.split(separator: ",").allSatisfy { clause in
            if clause.hasPrefix(">=") { return compare(version, String(clause.dropFirst(2))) >= 0 }
            if clause.hasPrefix("<") { return compare(version, String(clause.dropFirst(1))) < 0 }
            return false
        }
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0)! }, y = b.split(separator: ".").map { Int($0)! }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }
}
