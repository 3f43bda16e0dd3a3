import Foundation
import Testing
@testable import PipBench

@Suite struct SpecTests {
    @Test func minimalTwoLineSpecUsesDefaults() throws {
        let spec = try BenchSpec.parse(yaml: "seed: 7\npackages: 60\n")
        var expected = BenchSpec()
        expected.seed = 7
        expected.packages = 60
        #expect(spec == expected)
    }

    @Test func everyDistributionFormParses() throws {
        let spec = try BenchSpec.parse(yaml: """
            seed: 1
            packages: 5
            files_per_package: 12
            dependencies: [0, 1, 1, 2]
            file_size_bytes: {kind: lognormal, median: 2000, sigma: 0.5, min: 10, max: 9000}
            import_cpu_seconds: {kind: uniform, low: 0.01, high: 0.02}
            compression_ratio: {kind: normal, mean: 0.4, stddev: 0.01}
            popularity: {kind: zipf, s: 1.3, count: 5}
            versions_per_package: {kind: constant, value: 2}
            """)
        #expect(spec.filesPerPackage == .constant(12))
        #expect(spec.dependencies == Distribution(.empirical([0, 1, 1, 2])))
        #expect(spec.fileSizeBytes == Distribution(.lognormal(median: 2000, sigma: 0.5), minimum: 10, maximum: 9000))
        #expect(spec.importCpuSeconds == Distribution(.uniform(low: 0.01, high: 0.02)))
        #expect(spec.compressionRatio == Distribution(.normal(mean: 0.4, stddev: 0.01)))
        #expect(spec.popularity == Distribution(.zipf(s: 1.3, count: 5)))
        #expect(spec.versionsPerPackage == .constant(2))
    }

    @Test func unknownSettingsAndBadValuesAreRejected() {
        #expect(throws: PipBenchError.self) { try BenchSpec.parse(yaml: "seed: 1\npackagez: 3\n") }
        #expect(throws: PipBenchError.self) { try BenchSpec.parse(yaml: "packages: 0\n") }
        #expect(throws: PipBenchError.self) { try BenchSpec.parse(yaml: "file_size_bytes: {kind: pareto, a: 1}\n") }
        #expect(throws: PipBenchError.self) { try BenchSpec.parse(yaml: "file_size_bytes: {kind: lognormal, median: -1, sigma: 1}\n") }
    }

    @Test func distributionRoundTripsThroughJSON() throws {
        let d = Distribution(.lognormal(median: 5, sigma: 0.3), minimum: 1, maximum: 10)
        let data = try JSONEncoder().encode(d)
        #expect(try JSONDecoder().decode(Distribution.self, from: data) == d)
    }
}
