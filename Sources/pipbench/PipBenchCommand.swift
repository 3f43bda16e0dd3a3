import ArgumentParser
import PipBench

@main
struct PipBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipbench",
        abstract: "Artificial Python packages, a PyPI mirror for them, and a load client for Pipsqueak workers.",
        subcommands: [GenerateCommand.self, ServeCommand.self, RunCommand.self, AnalyzeCommand.self, TemplateCommand.self]
    )
}
