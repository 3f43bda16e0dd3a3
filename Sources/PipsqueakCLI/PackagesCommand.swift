import ArgumentParser
import Foundation

/// `pipsqueak packages`: the install cache's store.
struct PackagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packages", abstract: "Inspect and clean the install cache.", subcommands: [List.self, GarbageCollect.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "Installed distributions: size, download, install and import seconds, and the handlers using them.")
        @OptionGroup var worker: WorkerOption

        func run() async throws {
            let reply = try await worker.client.send(.GET, "/packages")
            guard reply.status == 200 else { throw CLIError(reply.errorMessage) }
            let rows = (reply.json as? [[String: Any]]) ?? []
            print("NAME".padding(toLength: 28, withPad: " ", startingAt: 0) + "VERSION".padding(toLength: 14, withPad: " ", startingAt: 0)
                  + "   SIZE MB  DOWNLOAD s  INSTALL s  IMPORT s  HANDLERS")
            for row in rows {
                let size = Double((row["installed_bytes"] as? Int) ?? 0) / 1_048_576
                let install = (row["install_seconds"] as? Double) ?? 0
                let download = (row["download_seconds"] as? Double).map { String(format: "%11.2f", $0) } ?? "          -"
                let importSeconds = (row["import_seconds"] as? Double).map { String(format: "%8.3f", $0) } ?? "       -"
                let handlers = ((row["handlers"] as? [String]) ?? []).joined(separator: ",")
                print("\(row["name"] ?? "")".padding(toLength: 28, withPad: " ", startingAt: 0)
                      + "\(row["version"] ?? "")".padding(toLength: 14, withPad: " ", startingAt: 0)
                      + String(format: "%10.2f", size) + download + String(format: " %10.2f ", install) + importSeconds + "  " + handlers)
            }
        }
    }

    struct GarbageCollect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove distributions no deployed handler needs.")
        @OptionGroup var worker: WorkerOption

        func run() async throws {
            let reply = try await worker.client.send(.POST, "/packages/gc")
            guard reply.status == 200 else { throw CLIError(reply.errorMessage) }
            let removed = ((reply.json as? [String: Any])?["removed"] as? [String]) ?? []
            print(removed.isEmpty ? "nothing to remove" : "removed \(removed.joined(separator: ", "))")
        }
    }
}
