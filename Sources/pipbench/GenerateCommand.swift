import ArgumentParser
import Foundation
import PipBench

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write artificial packages (wheels, optional sdists) and a PEP 503/691 index from a YAML spec.",
        discussion: "A spec may be as small as `seed: 7` and `packages: 60`; see docs/pipbench.md for every setting."
    )

    @Option(help: "YAML spec file.")
    var spec: String

    @Option(help: "Output directory (its packages/ and simple/ are replaced).")
    var out: String

    @Option(help: "Override the spec's seed.")
    var seed: UInt64?

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        var benchSpec = try BenchSpec.load(path: spec)
        if let seed { benchSpec.seed = seed }
        let specDirectory = URL(fileURLWithPath: spec).deletingLastPathComponent()
        let templates = try Generator.loadTemplates(benchSpec, relativeTo: specDirectory)
        let generator = Generator(spec: benchSpec, templates: templates, output: URL(fileURLWithPath: out))
        let reporter = ProgressLine(enabled: !quiet)
        let summary = try generator.run { progress in reporter.update(progress) }
        reporter.finish()
        print(String(format: "generated %d packages, %d releases, %d files (%.1f MB) in %.2f s (%.0f packages/s) -> %@",
                     summary.packages, summary.releases, summary.filesWritten, Double(summary.bytesWritten) / 1e6,
                     summary.seconds, Double(summary.packages) / max(summary.seconds, 1e-9), out))
    }
}
