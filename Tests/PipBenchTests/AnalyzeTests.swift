import Foundation
import Testing
@testable import PipBench

@Suite struct AnalyzeTests {
    @Test func packageStudyMatchesTheGeneratedTree() throws {
        var spec = TestSupport.smallSpec(packages: 10)
        spec.fileSizeBytes = .constant(20_000)
        spec.compressionRatio = .constant(0.3)
        spec.dependencies = .constant(2)
        spec.sdistOnlyFraction = 0.2
        let root = try TestSupport.generate(spec, label: "study")
        defer { try? FileManager.default.removeItem(at: root) }
        let plans = try BenchManifest.load(from: root).packages
        let study = try PackageStudy.run(directory: root)
        let wheelPlans = plans.filter(\.hasWheel)
        #expect(study.wheels == wheelPlans.reduce(0) { $0 + $1.versions.count })
        #expect(study.sdists == plans.filter(\.hasSdist).reduce(0) { $0 + $1.versions.count })
        let expectedFanOut = wheelPlans.reduce(0) { $0 + $1.requirements.count * $1.versions.count }
        #expect(Int((study.fanOut.mean * Double(study.fanOut.count)).rounded()) == expectedFanOut)
        let py = try #require(study.byType[".py"])
        #expect(abs(Double(py.compressedBytes) / Double(py.uncompressedBytes) - 0.3) < 0.05)
        #expect(study.byType["dist-info"]?.files == study.wheels * 4)
        #expect(study.report().contains("compression ratio"))
    }

    @Test func requiresDistParsingSkipsExtras() {
        let metadata = "Name: x\nRequires-Dist: Foo_Bar (>=1)\nRequires-Dist: baz>=2; python_version < \"3.9\"\nRequires-Dist: pytest; extra == \"test\"\n\nRequires-Dist: body\n"
        #expect(WheelMetadata.requirements(metadata) == ["foo-bar", "baz"])
    }

    @Test func importStudyComputesHitRatios() throws {
        let corpus = try TestSupport.temporaryDirectory("corpus")
        defer { try? FileManager.default.removeItem(at: corpus) }
        let apps = [
            "a.py": "import numpy as np\nimport os\n",
            "b.py": "import numpy\nfrom yaml import load\n",
            "c.py": "from requests import get\nimport numpy.linalg\nfrom . import sibling\n",
            "d.py": "import json\n",
        ]
        for (name, text) in apps { try text.write(to: corpus.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let study = try ImportStudy.run(corpus: corpus, moduleMap: [:], standardLibrary: ["os", "json"])
        #expect(study.applications == 4)
        #expect(study.applicationsWithThirdPartyImports == 3)
        #expect(study.popularity == ["numpy": 3, "pyyaml": 1, "requests": 1])
        let one = try #require(study.curve.first { $0.cached == 1 })
        #expect(abs(one.importHitRatio - 3.0 / 5.0) < 1e-9)
        #expect(abs(one.applicationHitRatio - 1.0 / 3.0) < 1e-9)
        #expect(study.curve.last?.applicationHitRatio == 1)
    }

    @Test func templateFromWheelAndStamping() async throws {
        var spec = TestSupport.smallSpec(packages: 4)
        spec.dependencies = .constant(1)
        spec.directoryDepth = .constant(2)
        let root = try TestSupport.generate(spec, label: "template")
        defer { try? FileManager.default.removeItem(at: root) }
        let plan = try BenchManifest.load(from: root).packages[3]
        let wheel = root.appendingPathComponent("simple/\(plan.name)/\(plan.wheelFileName(version: plan.latestVersion))")
        let template = try await TemplateReader.fromWheel(wheel, measureIn: nil)
        #expect(template.name == plan.name)
        #expect(template.topLevel == [plan.importName])
        #expect(template.dependencies == plan.requirements.map(\.name))
        #expect(template.sizeHistogram.values.reduce(0, +) == template.files.count)
        #expect(template.compressionRatio != nil)

        var stampSpec = TestSupport.smallSpec(packages: 6)
        stampSpec.templateFraction = 1
        stampSpec.templates = ["unused-path"]
        let stamped = Planner(spec: stampSpec, templates: [template]).plan()
        #expect(stamped.allSatisfy { $0.template == plan.name })
        let last = stamped[5]
        let expectedFiles = template.files.filter { !$0.path.contains(".dist-info/") && $0.path != "\(plan.importName)/__init__.py" }
        #expect(last.files.count == expectedFiles.count)
        #expect(Set(last.files.map(\.size)) == Set(expectedFiles.map(\.size)))
        #expect(last.files.allSatisfy { $0.path.hasPrefix(last.importName + "/") })
        #expect(last.requirements.count == min(template.dependencies.count, 5))
    }
}
