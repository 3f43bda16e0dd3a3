import ArgumentParser
import Foundation
import PipBench

struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Package study: sizes, file counts, compression and fan-out of a wheel directory; startup costs; import corpora.",
        discussion: """
            pipbench analyze DIR
                sizes by file type, files per wheel, compression ratio, fan-out
            pipbench analyze --startup NAME...
                download, install and import seconds of real packages, each step
                in a Pipsqueak sandbox (needs root)
            pipbench analyze --imports DIR
                imports of a Python corpus mapped to distributions, cache hit ratio
            """
    )

    @Argument(help: "A wheel/mirror directory, or package names with --startup.")
    var targets: [String] = []

    @Flag(help: "Measure download, install and import time of the named packages.")
    var startup = false

    @Option(help: "Scan this corpus of Python sources for imports (each top-level entry is one application).")
    var imports: String?

    @Option(help: "With --imports: map modules to distributions using the wheels below this directory.")
    var wheels: String?

    @Option(name: .customLong("index-url"), help: "With --startup: the index to download from (default: pip's).")
    var indexURL: String?

    @OptionGroup var sandbox: SandboxOptions

    @Flag(help: "Print JSON instead of a text report.")
    var json = false

    func run() async throws {
        if let imports {
            let map = wheels.map { ImportStudy.moduleMap(fromWheelsIn: URL(fileURLWithPath: $0)) } ?? [:]
            let study = try ImportStudy.run(corpus: URL(fileURLWithPath: imports), moduleMap: map,
                                            standardLibrary: ImportStudy.standardLibrary())
            try emit(study, text: study.report())
        } else if startup {
            guard !targets.isEmpty else { throw ValidationError("--startup needs at least one package name") }
            let study = StartupStudy(indexURL: indexURL)
            let box = try sandbox.make()
            let interrupt = box.interruptOnSignals()
            defer { box.shutdown(); withExtendedLifetime(interrupt) {} }
            var rows: [StartupStudy.Row] = []
            for (number, name) in targets.enumerated() {
                FileHandle.standardError.write(Data("[\(number + 1)/\(targets.count)] measuring \(name) in sandboxes...\n".utf8))
                let row = await Result(catching: { try await study.measure(name, in: box) })
                if interrupt.fired { throw ExitCode(130) }
                rows.append(try row.get())
            }
            try emit(rows, text: StartupStudy.report(rows))
        } else {
            guard targets.count == 1 else { throw ValidationError("give one directory (or use --startup / --imports)") }
            let study = try PackageStudy.run(directory: URL(fileURLWithPath: targets[0]))
            try emit(study, text: study.report())
        }
    }

    private func emit<T: Encodable>(_ value: T, text: String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            print(text)
        }
    }
}
