import ArgumentParser
import Foundation
import PipBench

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a PEP 503 tree (generated, or a bandersnatch web/ folder) as a PyPI mirror over HTTP.",
        discussion: "pip install --index-url http://127.0.0.1:PORT/simple NAME"
    )

    @Argument(help: "Directory holding simple/ (and the files the index links to).")
    var directory: String

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    func run() async throws {
        let root = URL(fileURLWithPath: directory)
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("simple").path) else {
            throw ValidationError("\(directory) has no simple/ folder")
        }
        let server = MirrorServer(root: root, host: host, port: port)
        try await server.run(handleSignals: true) { bound in
            FileHandle.standardOutput.write(Data("serving \(root.path) at http://\(host):\(bound)/simple/\n".utf8))
        }
    }
}
