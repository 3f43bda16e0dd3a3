import ArgumentParser

/// The `pipsqueak` command line.
public struct PipsqueakCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pipsqueak",
        abstract: "A serverless platform for Python handlers that knows which packages each handler needs.",
        subcommands: [WorkerCommand.self, DeployCommand.self, InvokeCommand.self, ListCommand.self, ZygotesCommand.self,
                      RemoveCommand.self, StatusCommand.self, PackagesCommand.self, BenchCommand.self])

    public init() {}
}

extension PipsqueakCommand {
    /// Parses the process arguments and runs the chosen subcommand, async or not.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
