import Foundation
import Testing
@testable import PipBench

/// The package study installs and imports only inside Pipsqueak sandboxes (needs root and the built helper).
@Suite(.serialized, .enabled(if: geteuid() == 0, "sandboxed installs and imports need root (namespaces and cgroups)"))
struct SandboxedStudyTests {
    @Test func startupStudyMeasuresDownloadInstallAndImportInSandboxes() async throws {
        var spec = TestSupport.smallSpec(packages: 5)
        spec.dependencies = .constant(1)
        spec.importMemoryBytes = .constant(8_388_608)
        spec.importCpuSeconds = .constant(0.02)
        let root = try TestSupport.generate(spec, label: "startup")
        let box = try StudySandbox()
        defer { box.shutdown(); try? FileManager.default.removeItem(at: root) }
        let plans = try BenchManifest.load(from: root).packages
        let top = try #require(plans.last { !$0.requirements.isEmpty })
        let study = StartupStudy(indexURL: "file://\(root.path)/simple")

        let row = try await study.measure(top.name, in: box)
        #expect(row.error == nil, "\(row.error ?? "")")
        #expect(row.module == top.importName)
        #expect(row.distributions == plans.dependencyClosure(of: top.name).count)
        #expect((row.downloadedBytes ?? 0) > 0)
        #expect((row.installedBytes ?? 0) > 0)
        #expect(row.downloadSeconds != nil && row.installSeconds != nil && row.importSeconds != nil)
        // Every package in the closure keeps 8 MiB resident after its import.
        #expect((row.importMemoryBytes ?? 0) >= 8 << 20)
        #expect((row.importCpuSeconds ?? 0) > 0)

        let missing = try await study.measure("no-such-package", in: box)
        #expect(missing.error?.hasPrefix("download failed") == true)
        #expect(missing.installSeconds == nil)
        let option = try await study.measure("--index-url=http://example.invalid", in: box)
        #expect(option.error == "not a package name")
    }

    /// A package's import code runs with the sandbox's private /tmp and without the host's files.
    @Test func templateMeasurementRunsHostileImportCodeInASandbox() async throws {
        let work = try TestSupport.temporaryDirectory("hostile-template")
        let box = try StudySandbox()
        defer { box.shutdown(); try? FileManager.default.removeItem(at: work) }
        let marker = work.appendingPathComponent("escaped").path
        let wheel = try Self.hostileWheel(in: work, marker: marker)
        let index = work.appendingPathComponent("simple")
        try FileManager.default.createDirectory(at: index, withIntermediateDirectories: true)
        try "<!DOCTYPE html><html><body></body></html>\n".write(to: index.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)

        let template = try await TemplateReader.fromWheel(wheel, measureIn: box, indexURL: "file://\(index.path)")
        #expect(template.name == "hostile")
        #expect(template.importSeconds != nil)
        #expect(!FileManager.default.fileExists(atPath: marker), "the import wrote to the host")
    }

    @Test func failingImportIsReportedNotFatal() async throws {
        let work = try TestSupport.temporaryDirectory("broken-import")
        let box = try StudySandbox()
        defer { box.shutdown(); try? FileManager.default.removeItem(at: work) }
        let site = work.appendingPathComponent("site/broken")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try "raise ImportError('broken on purpose')\n".write(to: site.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        let result = try await ImportProbe.measure(module: "broken", site: work.appendingPathComponent("site").path, in: box)
        guard case .failure(let error) = result else { Issue.record("a failing import produced a measurement"); return }
        #expect(error.description.contains("broken on purpose"))
    }


    /// A wheel whose import writes `marker` and reads host secrets.
    static func hostileWheel(in directory: URL, marker: String) throws -> URL {
        let wheel = directory.appendingPathComponent("hostile-1.0-py3-none-any.whl")
        let script = """
            import sys, zipfile
            init = "for path in [%r, '/etc/shadow', '/root/.bash_history']:\\n    try:\\n        open(path, 'a').write('pwned')\\n    except OSError:\\n        pass\\n" % sys.argv[2]
            meta = "Metadata-Version: 2.1\\nName: hostile\\nVersion: 1.0\\n"
            wheel = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                z.writestr("hostile/__init__.py", init)
                z.writestr("hostile-1.0.dist-info/METADATA", meta)
                z.writestr("hostile-1.0.dist-info/WHEEL", wheel)
                z.writestr("hostile-1.0.dist-info/top_level.txt", "hostile\\n")
                z.writestr("hostile-1.0.dist-info/RECORD", "")
            """
        let result = try TestSupport.run(TestSupport.python, ["-c", script, wheel.path, marker])
        guard result.status == 0 else { throw PipBenchError.io("could not build the hostile wheel: \(result.output)") }
        return wheel
    }
}
