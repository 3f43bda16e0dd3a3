import Foundation
import PipBench
import Testing

/// The install cache over a PipBench-generated index: a random dependency DAG of wheels and sdist-only packages,
/// where hand-making fixtures would be tedious. Checks the subset rule on every handler.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct GeneratedIndexTests {
    static let probe = """
        import importlib, os
        def f(event):
            imports = {}
            for name in event:
                try:
                    importlib.import_module(name)
                    imports[name] = True
                except ImportError:
                    imports[name] = False
            return {"mounted": sorted(os.listdir("/packages")), "imports": imports}
        """

    @Test func eachHandlerSeesExactlyItsGeneratedClosure() async throws {
        var spec = BenchSpec()
        spec.seed = 23
        spec.packages = 24
        spec.versionsPerPackage = Distribution(.uniform(low: 1, high: 3))
        spec.filesPerPackage = Distribution(.uniform(low: 1, high: 4))
        spec.fileSizeBytes = Distribution(.uniform(low: 200, high: 2000))
        spec.dependencies = Distribution(.empirical([0, 1, 2, 3]))
        spec.importCpuSeconds = .constant(0)
        spec.importMemoryBytes = .constant(1024)
        spec.installCpuSeconds = .constant(0.05)
        spec.nativeFraction = 0
        spec.sdists = true
        spec.sdistOnlyFraction = 0.25
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-generated-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        try Generator(spec: spec, output: root).run()
        let plans = try BenchManifest.load(from: root).packages
        let allModules = plans.map(\.importName)
        let worker = try WorkerProcess(arguments: ["--index-url", "file://\(root.path)/simple"])
        defer { worker.stop() }

        // The four packages with the largest closures, each required by its own handler.
        let chosen = plans.sorted { (plans.dependencyClosure(of: $0.name).count, $1.name) > (plans.dependencyClosure(of: $1.name).count, $0.name) }.prefix(4)
        try #require(plans.dependencyClosure(of: chosen.first!.name).count >= 3, "the generated DAG should have depth")
        var stored = Set<String>()
        for plan in chosen {
            let handler = "gen-\(plan.name)"
            let deployed = try await worker.deploy(handler, ["f.py": Self.probe, "requirements.txt": "\(plan.name)\n"])
            try #require(deployed.status == 201, "\(deployed.text)\n\(worker.log.suffix(3000))")
            let expected = plans.dependencyClosure(of: plan.name)
            let lock = try #require(try await worker.request(.GET, "/handlers/\(handler)").json["packages"] as? [[String: String]])
            #expect(Set(lock.map { $0["name"]! }) == expected, "the lock is the dependency closure")
            for entry in lock { stored.insert("\(entry["name"]!)==\(entry["version"]!)") }

            let reply = try await worker.invoke(handler, String(decoding: try JSONSerialization.data(withJSONObject: allModules), as: UTF8.self))
            try #require(reply.status == 200, "\(reply.text)")
            let mounted = reply.json["mounted"] as? [String] ?? []
            #expect(Set(mounted) == Set(lock.map { "\($0["name"]!)-\($0["version"]!)" }), "only the locked versions are mounted")
            let imports = reply.json["imports"] as? [String: Bool] ?? [:]
            for other in plans {
                #expect(imports[other.importName] == expected.contains(other.name),
                        "\(handler) importing \(other.name): \(expected.contains(other.name) ? "in" : "outside") its closure")
            }
        }
        let builtFromSdist = plans.filter { plan in !plan.hasWheel && stored.contains { $0.hasPrefix("\(plan.name)==") } }
        #expect(!builtFromSdist.isEmpty, "some installed packages were built from sdists")
        let tier = (try await worker.status()["tiers"] as? [String: Any])?["install_cache"] as? [String: Any]
        #expect(tier?["misses"] as? Int == stored.count, "each distinct distribution installed once")
    }
}
