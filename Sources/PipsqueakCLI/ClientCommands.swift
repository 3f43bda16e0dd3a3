import ArgumentParser
import Foundation
import PipsqueakCore

/// `--worker URL`, shared by every client subcommand.
struct WorkerOption: ParsableArguments {
    @Option(name: .customLong("worker"), help: "Worker URL.")
    var url = "http://127.0.0.1:5000"

    var client: WorkerClient { WorkerClient(baseURL: url) }
}

private func printJSON(_ reply: WorkerClient.Reply) {
    if let object = reply.json, JSONSerialization.isValidJSONObject(object),
       let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
        print(String(decoding: pretty, as: UTF8.self))
    } else {
        print(reply.text)
    }
}

private func requireSuccess(_ reply: WorkerClient.Reply) throws {
    guard (200..<300).contains(reply.status) else { throw CLIError(reply.errorMessage) }
}

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Deploy a handler from a directory (with f.py) or a single .py file.")
    @Argument(help: "Handler name, [A-Za-z0-9_-]{1,64}.") var name: String
    @Argument(help: "Handler directory, or a .py file deployed as f.py.") var path: String
    @OptionGroup var worker: WorkerOption

    func run() async throws {
        _ = try HandlerName(name)
        let log = FileHandle.standardError
        log.write(Data("packing \(path)…\n".utf8))
        let archive = try HandlerArchive.gzipTar(of: URL(fileURLWithPath: path))
        log.write(Data("uploading \(archive.count) bytes to \(worker.url)…\n".utf8))
        let client = worker.client, handler = name
        // Show the worker's install progress while the upload request resolves and installs packages.
        let progress = Task {
            var last = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(300))
                guard let reply = try? await client.send(.GET, "/installs"),
                      let jobs = reply.json as? [[String: Any]],
                      let phase = jobs.first(where: { $0["handler"] as? String == handler })?["phase"] as? String,
                      phase != last else { continue }
                last = phase
                FileHandle.standardError.write(Data("\(phase)…\n".utf8))
            }
        }
        let reply = try await client.send(.PUT, "/handlers/\(name)", body: archive, contentType: "application/gzip")
        progress.cancel()
        try requireSuccess(reply)
        let digest = ((reply.json as? [String: Any])?["digest"] as? String) ?? "?"
        print("deployed \(name) (\(digest.prefix(12)))")
    }
}

struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke", abstract: "Invoke a handler with a JSON event and print its JSON result.")
    @Argument(help: "Handler name.") var name: String
    @Argument(help: "JSON event (default {}).") var event: String = "{}"
    @Flag(name: .shortAndLong, help: "Print how the instance started and how long it took, on stderr.") var verbose = false
    @OptionGroup var worker: WorkerOption

    func run() async throws {
        let reply = try await worker.client.send(.POST, "/run/\(name)", body: Array(event.utf8))
        if verbose {
            let start = reply.headers["X-Pipsqueak-Start"].first ?? "-"
            let duration = reply.headers["X-Pipsqueak-Duration-Ms"].first ?? "-"
            FileHandle.standardError.write(Data("start: \(start), \(duration) ms\n".utf8))
        }
        try requireSuccess(reply)
        print(reply.text)
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List deployed handlers.")
    @OptionGroup var worker: WorkerOption

    func run() async throws {
        let reply = try await worker.client.send(.GET, "/handlers")
        try requireSuccess(reply)
        let handlers = (reply.json as? [[String: Any]]) ?? []
        print("NAME".padding(toLength: 24, withPad: " ", startingAt: 0) + "DIGEST        FILES  DEPLOYED")
        for handler in handlers {
            let name = "\(handler["name"] ?? "")".padding(toLength: 24, withPad: " ", startingAt: 0)
            let digest = "\(handler["digest"] ?? "")".prefix(12).padding(toLength: 14, withPad: " ", startingAt: 0)
            let files = "\(handler["files"] ?? "")".padding(toLength: 7, withPad: " ", startingAt: 0)
            print(name + digest + files + "\(handler["deployed_at"] ?? "")")
        }
    }
}

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a handler and its instances.")
    @Argument(help: "Handler name.") var name: String
    @OptionGroup var worker: WorkerOption

    func run() async throws {
        let reply = try await worker.client.send(.DELETE, "/handlers/\(name)")
        try requireSuccess(reply)
        print("removed \(name)")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show cache tiers, instances and memory of the worker.")
    @OptionGroup var worker: WorkerOption

    func run() async throws {
        let reply = try await worker.client.send(.GET, "/status")
        try requireSuccess(reply)
        printJSON(reply)
    }
}
