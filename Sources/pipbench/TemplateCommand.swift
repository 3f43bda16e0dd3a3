import ArgumentParser
import Foundation
import PipBench

struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Read a real wheel (or a distribution installed for /usr/bin/python3) into a generator template.",
        discussion: "The template records the directory structure, a file-size histogram, dependency names and the measured import time and memory. List it under `templates:` in a spec."
    )

    @Argument(help: "A .whl file, or the name of an installed distribution.")
    var source: String

    @Option(help: "Write the template here (default: stdout).")
    var out: String?

    @Flag(name: .customLong("no-measure"), help: "Skip installing and importing to measure import cost (measuring needs root: it runs in sandboxes).")
    var noMeasure = false

    @Option(name: .customLong("index-url"), help: "Index for the wheel's dependencies when measuring.")
    var indexURL: String?

    @OptionGroup var sandbox: SandboxOptions

    func run() async throws {
        let box = noMeasure ? nil : try sandbox.make()
        let interrupt = box?.interruptOnSignals()
        defer { box?.shutdown(); withExtendedLifetime(interrupt) {} }
        let read = await Result(catching: {
            source.hasSuffix(".whl")
                ? try await TemplateReader.fromWheel(URL(fileURLWithPath: source), measureIn: box, indexURL: indexURL)
                : try await TemplateReader.fromInstalled(source, measureIn: box)
        })
        if interrupt?.fired == true { throw ExitCode(130) }
        let template = try read.get()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(template)
        if let out {
            try data.write(to: URL(fileURLWithPath: out))
            let cost = template.importCpuSeconds.map { String(format: ", import %.3f s CPU", $0) } ?? ""
            print("\(template.name) \(template.version): \(template.files.count) files\(cost) -> \(out)")
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
