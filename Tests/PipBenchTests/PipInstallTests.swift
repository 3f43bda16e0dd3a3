import Foundation
import Testing
@testable import PipBench

/// Installs generated packages with the real pip (Debian's), from a file:// index: no PyPI needed.
@Suite struct PipInstallTests {
    /// The package with the most dependencies, so an install exercises resolution.
    private func deepest(_ root: URL) throws -> PackagePlan {
        try BenchManifest.load(from: root).packages.max { $0.requirements.count < $1.requirements.count }!
    }

    @Test func pipInstallsWheelsWithDependenciesAndTheyImport() throws {
        var spec = TestSupport.smallSpec(packages: 10)
        spec.dependencies = .constant(2)
        spec.nativeFraction = 0.5
        let root = try TestSupport.generate(spec, label: "pip")
        let target = try TestSupport.temporaryDirectory("site")
        defer { for u in [root, target] { try? FileManager.default.removeItem(at: u) } }
        let top = try deepest(root)
        let install = try TestSupport.pipInstall([top.name], indexURL: root.appendingPathComponent("simple").absoluteString, target: target)
        #expect(install.status == 0, "\(install.output)")
        for requirement in top.requirements {
            #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent(requirement.name.replacingOccurrences(of: "-", with: "_")).path))
        }
        let check = try TestSupport.run(TestSupport.python, ["-c", "import \(top.importName) as m; print(m.work()['package'])"],
                                        environment: ["PYTHONPATH": target.path])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains(top.name))
    }

    @Test func importReallySpendsCpuAndMemory() throws {
        var spec = TestSupport.smallSpec(packages: 1)
        spec.importCpuSeconds = .constant(0.3)
        spec.importMemoryBytes = .constant(64 * 1_048_576)
        let root = try TestSupport.generate(spec, label: "cost")
        let target = try TestSupport.temporaryDirectory("cost-site")
        defer { for u in [root, target] { try? FileManager.default.removeItem(at: u) } }
        let plan = try BenchManifest.load(from: root).packages[0]
        #expect(try TestSupport.pipInstall([plan.name], indexURL: root.appendingPathComponent("simple").absoluteString, target: target).status == 0)
        let script = """
            import time
            def rss():  # current resident set; ru_maxrss would inherit the parent's peak
                return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
            before = rss()
            t = time.process_time()
            import \(plan.importName)
            print(time.process_time() - t, rss() - before)
            """
        let result = try TestSupport.run(TestSupport.python, ["-c", script], environment: ["PYTHONPATH": target.path])
        let numbers = result.output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.count == 2, "\(result.output)")
        #expect(numbers.first ?? 0 >= 0.3)
        #expect(numbers.last ?? 0 >= Double(60 << 20))
    }

    @Test func pipBuildsSdistOnlyPackagesWithTheInTreeBackend() throws {
        var spec = TestSupport.smallSpec(packages: 3)
        spec.dependencies = .constant(1)
        spec.sdistOnlyFraction = 1
        let root = try TestSupport.generate(spec, label: "sdist")
        let target = try TestSupport.temporaryDirectory("sdist-site")
        defer { for u in [root, target] { try? FileManager.default.removeItem(at: u) } }
        let plans = try BenchManifest.load(from: root).packages
        #expect(plans.allSatisfy { !$0.hasWheel && $0.hasSdist })
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("simple/\(plans[0].name)").path)
        #expect(files.filter { $0 != "index.html" && $0 != "index.json" }.allSatisfy { $0.hasSuffix(".tar.gz") })
        let install = try TestSupport.pipInstall([plans[2].name], indexURL: root.appendingPathComponent("simple").absoluteString, target: target)
        #expect(install.status == 0, "\(install.output)")
        #expect(install.output.contains("Successfully installed"))
    }
}
